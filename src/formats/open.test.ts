// Plan: openCheckpoint on anything: random bytes under any of the names it recognises (.onnx,
// .safetensors, *.index.json, none) with random companions either opens or throws a FormatError
// naming a file — never another error, never a read outside a file (strict sources), and
// Object.prototype untouched.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from './open';
import { readTensor } from './tensor';
import { checkNoPollution, outcome, strictSource } from './testing';

const arbName = fc.constantFrom(
  'model.onnx',
  'model.safetensors',
  'model.safetensors.index.json',
  'x.index.json',
  'weights.bin',
  'README',
);
const arbJsonish = fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v)));
const arbBytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), arbJsonish);

describe('openCheckpoint on anything', () => {
  it('opens or throws a FormatError', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbName,
        arbBytes,
        fc.array(fc.tuple(arbName, arbBytes), { maxLength: 3 }),
        async (name, bytes, others) => {
          const result = await outcome(async () => {
            const checkpoint = await openCheckpoint(
              strictSource(bytes, name),
              others.map(([n, b], i) => strictSource(b, `${i}/${n}`)),
            );
            for (const t of checkpoint.tensors.values()) await readTensor(t);
          });
          expect(typeof result).toBe('string');
          checkNoPollution();
        },
      ),
      { numRuns: 500, timeout: 5000 },
    );
  });

  it('an index naming shards that are prototype names', async () => {
    const index = '{"weight_map":{"__proto__":"constructor","toString":"__proto__"}}';
    const e = await outcome(() =>
      openCheckpoint(strictSource(new TextEncoder().encode(index), 'model.safetensors.index.json')),
    );
    expect(e).toBe('missing-file');
    checkNoPollution();
  });
});
