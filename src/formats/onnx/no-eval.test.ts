// Plan: ONNX reading and writing never generate code. protobufjs compiles its decoders and
// encoders with `new Function`, which the studio's Content-Security-Policy (no 'unsafe-eval',
// scripts/csp.ts) refuses — so here `Function` is replaced by one that records and refuses every
// call, as the browser would, before anything in this file touches a schema type; then the
// fixtures open, every tensor reads, and they write back inline and with external data.
// (A file of its own: Vitest gives each file fresh modules, so no earlier test has already
// compiled the types.)
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemorySink } from '../sink';
import { bytesSource } from '../source';
import { readTensor } from '../tensor';
import { openOnnx } from './reader';
import { GraphProto } from './schema';
import { writeOnnx } from './writer';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
const realFunction = globalThis.Function;
const attempts: string[] = [];

beforeAll(() => {
  globalThis.Function = new Proxy(realFunction, {
    apply(_target, _this, args: unknown[]) {
      attempts.push(String(args.at(-1)).slice(0, 80));
      throw new EvalError('Evaluating a string as JavaScript violates the Content Security Policy');
    },
    construct(_target, args: unknown[]) {
      attempts.push(String(args.at(-1)).slice(0, 80));
      throw new EvalError('Evaluating a string as JavaScript violates the Content Security Policy');
    },
  });
});
afterAll(() => {
  globalThis.Function = realFunction;
});

it('opens, reads and writes ONNX without generating code', async () => {
  const weights = bytesSource(fixture('weights.bin'), 'weights.bin');
  for (const name of ['mlp.onnx', 'typed.onnx', 'external.onnx']) {
    const model = await openOnnx(bytesSource(fixture(name), name), [weights]);
    expect(model.tensors.size).toBeGreaterThan(0);
    const replacements = new Map();
    for (const t of model.tensors.values()) replacements.set(t.name, await readTensor(t));
    const inline = new MemorySink(`out-${name}`);
    await writeOnnx(model, replacements, inline);
    const external = new MemorySink(`ext-${name}`);
    const data = new MemorySink('out.data');
    await writeOnnx(model, replacements, external, {
      externalData: { sink: data, location: 'out.data', tensors: 'all' },
    });
    const back = await openOnnx(bytesSource(external.bytes(), `ext-${name}`), [
      bytesSource(data.bytes(), 'out.data'),
    ]);
    for (const t of back.tensors.values()) expect(await readTensor(t)).toEqual(replacements.get(t.name));
  }
  expect(attempts).toEqual([]);
  // The trap works: protobufjs's own decoder, never compiled in this file, is refused.
  expect(() => GraphProto.decode(new Uint8Array(0))).toThrow(EvalError);
  expect(attempts.length).toBe(1);
});
