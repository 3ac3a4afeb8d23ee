// Plan: property tests over damaged fixtures — random byte overwrites, truncations, insertions and
// deletions of each fixture (and of the external weights file). Opening, then reading every tensor,
// must either succeed or throw a FormatError: never another exception type, never a hang. 200 cases.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../errors';
import { readTensor } from '../tensor';
import { strictSource } from '../testing';
import { openOnnx } from './reader';
import { walkFields } from './wire';

const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));

const MODELS = ['mlp.onnx', 'typed.onnx', 'external.onnx'] as const;
const files = Object.fromEntries([...MODELS, 'weights.bin'].map((n) => [n, fixture(n)] as const)) as Record<
  string,
  Uint8Array
>;

/** Where each top-level field of each fixture ends. */
const boundaries = Object.fromEntries(
  MODELS.map((n) => [
    n,
    walkFields(files[n] as Uint8Array, 0, (files[n] as Uint8Array).length, true).map((f) => f.end),
  ]),
) as Record<string, number[]>;

/** Opens and reads everything; resolves to the outcome, rejects on anything but a FormatError. */
async function openAndRead(model: Uint8Array, weights: Uint8Array): Promise<'opened' | FormatError['code']> {
  try {
    // strict sources: a read outside a file is a bug here, not the 'truncated' FormatError a real source gives
    const ckpt = await openOnnx(strictSource(model, 'm.onnx'), [strictSource(weights, 'weights.bin')]);
    for (const entry of ckpt.tensors.values()) await readTensor(entry);
    return 'opened';
  } catch (e) {
    if (e instanceof FormatError) return e.code;
    throw e;
  }
}

const modelName = fc.constantFrom(...MODELS);

describe('damaged models open or throw FormatError', () => {
  it('byte overwrites', async () => {
    await fc.assert(
      fc.asyncProperty(
        modelName,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        async (name, edits) => {
          const bytes = (files[name] as Uint8Array).slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          await openAndRead(bytes, files['weights.bin'] as Uint8Array);
        },
      ),
      { numRuns: 80, seed: 20240601 },
    );
  });

  it('truncations', async () => {
    await fc.assert(
      fc.asyncProperty(modelName, fc.nat(), async (name, cut) => {
        const bytes = files[name] as Uint8Array;
        const at = cut % bytes.length;
        const outcome = await openAndRead(bytes.subarray(0, at), files['weights.bin'] as Uint8Array);
        // A cut inside a field never opens; one between top-level fields after the graph and the
        // opset imports may (the fields after it are simply absent).
        if (outcome === 'opened') expect(boundaries[name]).toContain(at);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it('insertions and deletions', async () => {
    await fc.assert(
      fc.asyncProperty(
        modelName,
        fc.nat(),
        fc.uint8Array({ minLength: 0, maxLength: 6 }),
        fc.integer({ min: 0, max: 6 }),
        async (name, at, insert, remove) => {
          const bytes = files[name] as Uint8Array;
          const i = at % bytes.length;
          const out = new Uint8Array([...bytes.subarray(0, i), ...insert, ...bytes.subarray(i + remove)]);
          await openAndRead(out, files['weights.bin'] as Uint8Array);
        },
      ),
      { numRuns: 60, seed: 99 },
    );
  });

  it('a damaged or short external data file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), async (cut, flip) => {
        const weights = (files['weights.bin'] as Uint8Array).slice(0, cut % 120);
        const i = flip % Math.max(1, weights.length);
        if (i < weights.length) weights[i] = (weights[i] as number) ^ 0xff;
        await openAndRead(files['external.onnx'] as Uint8Array, weights);
      }),
      { numRuns: 20, seed: 3 },
    );
  });
});
