// Plan: open the fixtures made by tools/fixtures/make_onnx_fixtures.py (torch export with raw_data,
// onnx.helper typed fields, external data) and compare every initializer's dtype, shape and decoded
// values, the graph inputs/outputs, opsets, producer and metadata with expected.json; then check the
// reading itself: raw_data and external data are range reads (never the whole file again), chunked
// reads agree with whole reads, typed-field variants (unpacked fields, repeated runs) convert alike,
// and the external-file lookup goes by base name, through a Map or a list.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, type DType } from '../dtype';
import { bytesSource, type ByteSource } from '../source';
import { readTensor, tensorName } from '../tensor';
import { matchOnnx, openOnnx } from './reader';
import { modelBytes, tensorProto, type TensorSpec } from './testing';

const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
const fixtureSource = (name: string): ByteSource => bytesSource(fixture(name), name);

interface ExpectedInitializer {
  name: string;
  dtype: DType;
  dims: number[];
  values: (number | string)[];
}
interface ExpectedModel {
  file: string;
  externalFiles: string[];
  irVersion: number;
  producer: { name: string; version: string };
  opsetImports: { domain: string; version: number }[];
  metadata: Record<string, string>;
  inputs: { name: string; elemType: string; shape: (number | string | null)[] | null }[];
  outputs: { name: string; elemType: string; shape: (number | string | null)[] | null }[];
  initializers: ExpectedInitializer[];
  skipped: { name: string; dataType: string }[];
}

const expected = (
  JSON.parse(readFileSync(new URL('./__fixtures__/expected.json', import.meta.url), 'utf8')) as {
    models: ExpectedModel[];
  }
).models;

/** Decodes little-endian bytes of a dtype into the JSON form expected.json uses. */
function decodeValues(bytes: Uint8Array, dtype: DType): (number | string)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: (number | string)[] = [];
  const read: Record<string, [number, (at: number) => number | string]> = {
    F32: [4, (at) => view.getFloat32(at, true)],
    F64: [8, (at) => view.getFloat64(at, true)],
    F16: [2, (at) => f16BitsToF32(view.getUint16(at, true))],
    BF16: [2, (at) => bf16BitsToF32(view.getUint16(at, true))],
    I64: [8, (at) => view.getBigInt64(at, true).toString()],
    U64: [8, (at) => view.getBigUint64(at, true).toString()],
    I32: [4, (at) => view.getInt32(at, true)],
    U32: [4, (at) => view.getUint32(at, true)],
    I16: [2, (at) => view.getInt16(at, true)],
    U16: [2, (at) => view.getUint16(at, true)],
    I8: [1, (at) => view.getInt8(at)],
    U8: [1, (at) => view.getUint8(at)],
    BOOL: [1, (at) => view.getUint8(at)],
  };
  const [size, get] = read[dtype] ?? [0, () => 0];
  for (let at = 0; at < bytes.byteLength; at += size) out.push(get(at));
  return out;
}

/** A source that counts the bytes read through it. */
function counting(source: ByteSource): ByteSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    name: source.name,
    size: source.size,
    reads,
    read(offset, length) {
      reads.push([offset, length]);
      return source.read(offset, length);
    },
  };
}

async function openFixture(m: ExpectedModel) {
  return openOnnx(
    fixtureSource(m.file),
    m.externalFiles.map((f) => fixtureSource(f)),
  );
}

describe.each(expected.map((m) => [m.file, m] as const))('fixture %s', (_file, m) => {
  it('has every initializer with the recorded dtype, dims and values, in file order', async () => {
    const ckpt = await openFixture(m);
    expect(ckpt.format).toBe('onnx');
    expect([...ckpt.tensors.keys()]).toEqual(m.initializers.map((i) => i.name));
    for (const want of m.initializers) {
      const entry = ckpt.tensors.get(tensorName(want.name));
      expect(entry, want.name).toBeDefined();
      if (!entry) continue;
      expect(entry.dtype, want.name).toBe(want.dtype);
      expect(entry.shape, want.name).toEqual(want.dims);
      expect(decodeValues(await readTensor(entry), entry.dtype), want.name).toEqual(want.values);
    }
  });

  it('describes the graph: inputs, outputs, opsets, producer, metadata, skipped', async () => {
    const ckpt = await openFixture(m);
    expect(ckpt.inputs.map(({ name, elemType, shape }) => ({ name, elemType, shape }))).toEqual(m.inputs);
    expect(ckpt.outputs.map(({ name, elemType, shape }) => ({ name, elemType, shape }))).toEqual(m.outputs);
    expect(ckpt.inputs.every((v) => v.kind === 'tensor')).toBe(true);
    expect(ckpt.opsetImports).toEqual(m.opsetImports);
    expect(ckpt.producer).toEqual(m.producer);
    expect(ckpt.irVersion).toBe(m.irVersion);
    expect(Object.fromEntries(ckpt.metadata)).toEqual(m.metadata);
    expect(ckpt.skipped.map(({ name, dataType }) => ({ name, dataType }))).toEqual(m.skipped);
    expect(ckpt.files).toEqual([m.file, ...m.externalFiles]);
  });

  it('reads any chunk of a tensor as the same bytes as the whole', async () => {
    const ckpt = await openFixture(m);
    for (const entry of ckpt.tensors.values()) {
      const whole = await readTensor(entry);
      const mid = Math.floor(entry.byteLength / 2);
      const parts = [await entry.data.read(0, mid), await entry.data.read(mid, entry.byteLength)];
      expect(Buffer.concat(parts).equals(Buffer.from(whole)), entry.name).toBe(true);
    }
  });
});

describe('laziness', () => {
  it('reads raw_data as a range of the .onnx, after parsing once', async () => {
    const source = counting(fixtureSource('mlp.onnx'));
    const ckpt = await openOnnx(source);
    expect(source.reads).toEqual([[0, source.size]]);
    const fc = ckpt.tensors.get(tensorName('fc.weight'));
    if (!fc) throw new Error('fc.weight missing');
    await fc.data.read(8, 16);
    const last = source.reads.at(-1) ?? [0, 0];
    expect(last[1]).toBe(8);
    // The bytes at that offset of the file are the tensor's bytes 8..16.
    const file = fixture('mlp.onnx');
    expect([...file.subarray(last[0], last[0] + 8)]).toEqual([...(await fc.data.read(8, 16))]);
  });

  it('reads external data as a range of the external file, lazily', async () => {
    const weights = counting(fixtureSource('weights.bin'));
    const ckpt = await openOnnx(fixtureSource('external.onnx'), [weights]);
    expect(weights.reads).toEqual([]);
    const bias = ckpt.tensors.get(tensorName('fc.bias'));
    expect(bias?.file).toBe('weights.bin');
    await bias?.data.read(4, 12);
    expect(weights.reads.length).toBe(1);
    expect(weights.reads[0]?.[1]).toBe(8);
  });

  it('rejects reads outside a tensor', async () => {
    const ckpt = await openOnnx(fixtureSource('mlp.onnx'));
    const bias = ckpt.tensors.get(tensorName('conv.bias'));
    await expect(bias?.data.read(0, 9)).rejects.toMatchObject({ code: 'out-of-bounds' });
    await expect(bias?.data.read(5, 4)).rejects.toMatchObject({ code: 'out-of-bounds' });
  });
});

describe('external files', () => {
  it('are matched by base name, from a Map keyed by path', async () => {
    const ckpt = await openOnnx(
      fixtureSource('external.onnx'),
      new Map([['/some/dir/weights.bin', bytesSource(fixture('weights.bin'), 'anything')]]),
    );
    expect(ckpt.tensors.size).toBe(4);
    expect(ckpt.files).toEqual(['external.onnx', 'anything']);
  });

  it('unused files given beside the model are not listed', async () => {
    const ckpt = await openOnnx(fixtureSource('mlp.onnx'), [fixtureSource('weights.bin')]);
    expect(ckpt.files).toEqual(['mlp.onnx']);
  });
});

describe('typed-field variants', () => {
  const cases: [string, TensorSpec, (number | string)[]][] = [
    ['unpacked float_data', { dims: [2], dataType: 1, floatData: [1.5, -2], packed: false }, [1.5, -2]],
    ['float_data in two packed runs', { dims: [3], dataType: 1, floatRuns: [[1], [2, 3]] }, [1, 2, 3]],
    ['FLOAT16 bits in int32_data', { dims: [2], dataType: 10, int32Data: [0x3e00, 0xc000] }, [1.5, -2]],
    ['unpacked int32_data', { dims: [2], dataType: 6, int32Data: [-5, 9], packed: false }, [-5, 9]],
    [
      'INT64 in int64_data',
      { dims: [2], dataType: 7, int64Data: ['-9007199254740993', '5'] },
      ['-9007199254740993', '5'],
    ],
    [
      'UINT64 in uint64_data',
      { dims: [1], dataType: 13, uint64Data: ['18446744073709551615'] },
      ['18446744073709551615'],
    ],
    ['DOUBLE in double_data', { dims: [2], dataType: 11, doubleData: [0.1, -2] }, [0.1, -2]],
    ['BOOL in int32_data (non-zero is true)', { dims: [3], dataType: 9, int32Data: [0, 1, 7] }, [0, 1, 1]],
    [
      'a scalar in raw_data',
      { dims: [], dataType: 1, raw: new Uint8Array(new Float32Array([4]).buffer) },
      [4],
    ],
    ['an empty tensor without data', { dims: [0, 4], dataType: 1 }, []],
  ];
  it.each(cases)('%s', async (_what, spec, values) => {
    const ckpt = await openOnnx(bytesSource(modelBytes([tensorProto({ name: 't', ...spec })]), 'm.onnx'));
    const t = ckpt.tensors.get(tensorName('t'));
    if (!t) throw new Error('t missing');
    expect(decodeValues(await readTensor(t), t.dtype)).toEqual(values);
  });

  it('lists strings, complex and 4-bit initializers as skipped', async () => {
    const ckpt = await openOnnx(
      bytesSource(
        modelBytes([
          tensorProto({ name: 'c', dims: [1], dataType: 14, floatData: [1, 2] }),
          tensorProto({ name: 'q', dims: [2], dataType: 22, int32Data: [0x12] }),
          tensorProto({ name: 'f', dims: [1], dataType: 1, floatData: [1] }),
        ]),
        'm.onnx',
      ),
    );
    expect([...ckpt.tensors.keys()]).toEqual(['f']);
    expect(ckpt.skipped.map((s) => [s.name, s.dataType])).toEqual([
      ['c', 'COMPLEX64'],
      ['q', 'INT4'],
    ]);
  });

  it('maps FLOAT8E4M3FN and FLOAT8E5M2 to F8_E4M3 and F8_E5M2', async () => {
    const ckpt = await openOnnx(
      bytesSource(
        modelBytes([
          tensorProto({ name: 'a', dims: [1], dataType: 17, raw: new Uint8Array([0x38]) }),
          tensorProto({ name: 'b', dims: [1], dataType: 19, int32Data: [0x3c] }),
        ]),
        'm.onnx',
      ),
    );
    expect([...ckpt.tensors.values()].map((t) => t.dtype)).toEqual(['F8_E4M3', 'F8_E5M2']);
    expect([...(await readTensor(ckpt.tensors.get(tensorName('b'))!))]).toEqual([0x3c]);
  });
});

describe('matchOnnx', () => {
  it.each([
    ['mlp.onnx', 'mlp.onnx', true],
    ['mlp.onnx', 'model.pb', true],
    ['typed.onnx', 'x', true],
    ['weights.bin', 'weights.bin', false],
  ])('%s named %s → %s', (fix, name, want) => {
    expect(matchOnnx(fixture(fix).subarray(0, 64), name)).toBe(want);
  });

  it('rejects a safetensors header and a JPEG that are not named .onnx', () => {
    const st = new Uint8Array([0x58, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"a":{}}')]);
    expect(matchOnnx(st, 'model.safetensors')).toBe(false);
    expect(matchOnnx(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'cat.jpg')).toBe(false);
    expect(matchOnnx(new Uint8Array([0x08, 0x01, 0x00]), 'x.bin')).toBe(false);
  });
});
