// Plan: hostile ONNX, beyond the damaged-fixture fuzzing of fuzz.test.ts.
//  - Models built from random initializers in the format's own vocabulary (names that are
//    Object.prototype properties, dims small, huge, past 2^63 or given as negative varints, every
//    data type number and some that are none, raw_data and typed fields of random lengths, both at
//    once, external data with random location/offset/length strings against a data file of random
//    length): opening and reading every tensor works or throws a FormatError naming a file; never
//    another error, never a read outside a file (strict sources), never a hang, and
//    Object.prototype is never touched. Also any bytes at all.
//  - Initializer names such as __proto__ round-trip through openOnnx and writeOnnx.
//  - 100 000 tiny initializers open in one read of the model and write back, fast.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFormatError } from '../errors';
import { MAX_TENSORS_PER_FILE } from '../limits';
import { MemorySink } from '../sink';
import { readTensor } from '../tensor';
import { checkNoPollution, outcome, PROTOTYPE_NAMES, strictSource } from '../testing';
import { openOnnx } from './reader';
import { modelBytes, tensorProto, type TensorSpec } from './testing';
import { writeOnnx } from './writer';

const RUN = { numRuns: 300, timeout: 5000 };

async function openAndReadAll(model: Uint8Array, weights: Uint8Array) {
  const m = strictSource(model, 'hostile.onnx');
  const w = strictSource(weights, 'weights.bin');
  const result = await outcome(async () => {
    const checkpoint = await openOnnx(m, [w]);
    for (const t of checkpoint.tensors.values()) {
      expect((await readTensor(t)).byteLength).toBe(t.byteLength);
      expect((await t.data.read(t.byteLength >> 1, t.byteLength)).byteLength).toBe(
        t.byteLength - (t.byteLength >> 1),
      );
    }
  });
  // The model is read once to parse; tensor reads are ranges of it or of the weights.
  expect(m.bytesRead).toBeLessThanOrEqual(model.byteLength * 3);
  expect(w.bytesRead).toBeLessThanOrEqual(weights.byteLength * 2 + 64);
  checkNoPollution();
  return result;
}

const arbName = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES, '', 'w'), fc.string({ maxLength: 6 }));
const arbDims = fc.array(
  fc.oneof(
    fc.nat(4),
    fc.constantFrom<number | string>(2 ** 31, 2 ** 53, '9223372036854775807', '18446744073709551615', '-1'),
  ),
  { maxLength: 3 },
);
const arbNumberText = fc.oneof(
  fc.nat(64).map(String),
  fc.constantFrom('', '-1', '1e3', '0x10', '9007199254740993', '18446744073709551616', ' 1', '1.5'),
);
const arbExternal = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('location', 'offset', 'length', 'checksum', '__proto__'),
        fc.string({ maxLength: 4 }),
      ),
      fc.oneof(
        fc.constantFrom('weights.bin', '../weights.bin', 'C:\\x\\weights.bin', 'missing.bin'),
        arbNumberText,
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => Object.fromEntries(pairs) as Record<string, string>);
const arbTensor: fc.Arbitrary<TensorSpec> = fc.record(
  {
    name: arbName,
    dims: arbDims,
    dataType: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.constantFrom(-1, 2 ** 31, 1000)),
    raw: fc.uint8Array({ maxLength: 40 }),
    floatData: fc.array(fc.float(), { maxLength: 6 }),
    int32Data: fc.array(fc.integer(), { maxLength: 6 }),
    int64Data: fc.array(fc.oneof(fc.integer(), fc.constantFrom('-9223372036854775808')), { maxLength: 4 }),
    doubleData: fc.array(fc.double(), { maxLength: 4 }),
    uint64Data: fc.array(fc.nat(), { maxLength: 4 }),
    stringData: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
    packed: fc.boolean(),
    external: arbExternal,
    dataLocation: fc.constantFrom(0, 1, 2, 7),
  },
  { requiredKeys: ['name', 'dims', 'dataType'] },
);

describe('random models open, or fail with a FormatError', () => {
  it('random initializers against a data file of random length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbTensor, { maxLength: 5 }),
        fc.uint8Array({ maxLength: 96 }),
        async (tensors, weights) => {
          await openAndReadAll(modelBytes(tensors.map(tensorProto)), weights);
        },
      ),
      RUN,
    );
  });

  it('well-formed raw and external initializers of random sizes (the checks behind the parser)', async () => {
    const arbRaw = fc.record({
      name: arbName,
      dims: fc.array(fc.nat(4), { maxLength: 2 }),
      dataType: fc.constantFrom(1, 10, 16, 7, 9, 3),
      bytes: fc.nat(40),
      external: fc.boolean(),
      offset: fc.nat(64),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(arbRaw, { maxLength: 5 }), fc.nat(128), async (specs, weightBytes) => {
        const tensors = specs.map((s) =>
          tensorProto(
            s.external
              ? {
                  name: s.name,
                  dims: s.dims,
                  dataType: s.dataType,
                  dataLocation: 1,
                  external: { location: 'weights.bin', offset: String(s.offset), length: String(s.bytes) },
                }
              : { name: s.name, dims: s.dims, dataType: s.dataType, raw: new Uint8Array(s.bytes) },
          ),
        );
        await openAndReadAll(modelBytes(tensors), new Uint8Array(weightBytes));
      }),
      RUN,
    );
  });

  it('any bytes at all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 80 }), (bytes) =>
        openAndReadAll(bytes, new Uint8Array(8)).then(() => {}),
      ),
      RUN,
    );
  });
});

it('initializer names that are Object.prototype properties open and write back as ordinary names', async () => {
  const names = [...PROTOTYPE_NAMES];
  const model = modelBytes(
    names.map((name, i) =>
      tensorProto({ name, dims: [2], dataType: 1, raw: new Uint8Array(new Float32Array([i, -i]).buffer) }),
    ),
  );
  const checkpoint = await openOnnx(strictSource(model, 'names.onnx'));
  expect([...checkpoint.tensors.keys()]).toEqual(names);
  const replacements = new Map(
    names.map((n, i) => [n as never, new Uint8Array(new Float32Array([10 + i, 0]).buffer)] as const),
  );
  const sink = new MemorySink('out.onnx');
  await writeOnnx(checkpoint, replacements, sink);
  const back = await openOnnx(strictSource(sink.bytes(), 'out.onnx'));
  expect([...back.tensors.keys()]).toEqual(names);
  for (const [i, n] of names.entries()) {
    const values = new Float32Array((await readTensor(back.tensors.get(n as never)!)).buffer);
    expect(Array.from(values)).toEqual([10 + i, 0]);
  }
  checkNoPollution();
});

it('100 000 tiny initializers: one read to open, and they write back, fast', async () => {
  const n = 100_000;
  const model = modelBytes(
    Array.from({ length: n }, (_, i) =>
      tensorProto({ name: `w${i}`, dims: [2], dataType: 1, raw: new Uint8Array(8) }),
    ),
  );
  const source = strictSource(model, 'many.onnx');
  const checkpoint = await openOnnx(source);
  expect(checkpoint.tensors.size).toBe(n);
  expect(source.reads).toBe(1);
  const replacements = new Map(
    [...checkpoint.tensors.keys()].map((k) => [k, new Uint8Array(8).fill(1)] as const),
  );
  await writeOnnx(checkpoint, replacements, new MemorySink('out.onnx'));
  // ~1 s alone; a step quadratic in the count would take hours: the test's limit catches it.
}, 60_000);

it('more initializers than one file may hold: refused by count, before any is decoded', async () => {
  // Before: 10⁶ initializers took ~1.6 GB. One tiny TensorProto repeated: the count is what is bounded.
  const one = tensorProto({ name: 'w', dims: [1], dataType: 1, raw: new Uint8Array(4) });
  const model = modelBytes(Array.from({ length: MAX_TENSORS_PER_FILE + 1 }, () => one));
  const error = await openOnnx(strictSource(model, 'giant.onnx')).catch((e: unknown) => e);
  expect(isFormatError(error, 'unsupported'), String(error)).toBe(true);
  expect(String(error)).toContain(
    `giant.onnx: the graph has ${MAX_TENSORS_PER_FILE + 1} initializers, over the ${MAX_TENSORS_PER_FILE}`,
  );
}, 120_000);
