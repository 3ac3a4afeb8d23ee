// Plan: every way openOnnx refuses a file, one named case each, checking the FormatError code and
// that the message names the file and the culprit (the initializer, the missing file): things that
// are not ONNX at all, truncated models, duplicate names, sizes that disagree with the shape,
// external data that is missing or out of range, unknown data types, bad dims, and the valid
// things we do not handle.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FormatError, type FormatErrorCode } from '../errors';
import { bytesSource, type ByteSource } from '../source';
import { openOnnx, type OnnxExternalFiles } from './reader';
import { ModelProto } from './schema';
import { concat, modelBytes, tensorProto } from './testing';

const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
const fixtureSource = (name: string): ByteSource => bytesSource(fixture(name), name);

async function failure(
  bytes: Uint8Array,
  others: OnnxExternalFiles = [],
  name = 'model.onnx',
): Promise<FormatError> {
  try {
    await openOnnx(bytesSource(bytes, name), others);
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error('opened without an error');
}

const f32 = (...values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const one = (spec: Parameters<typeof tensorProto>[0]): Uint8Array<ArrayBuffer> =>
  modelBytes([tensorProto({ name: 'w', dims: [2], dataType: 1, ...spec })]);

/** Deterministic pseudo-random bytes (xorshift32). */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('not an ONNX model', () => {
  const cases: [string, Uint8Array][] = [
    ['an empty file', new Uint8Array(0)],
    ['a JPEG', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01])],
    ['random bytes', noise(4096, 0x9e3779b9)],
    [
      'a safetensors file',
      concat([
        new Uint8Array([0x40, 0, 0, 0, 0, 0, 0, 0]),
        new TextEncoder().encode('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}       '),
        f32(1, 2),
      ]),
    ],
    [
      'a valid protobuf without a graph',
      ModelProto.encode(ModelProto.fromObject({ ir_version: 8 })).finish(),
    ],
    ['a graph field of the wrong wire type', new Uint8Array([0x08, 0x08, 0x38, 0x01])],
    ['a field number 0', new Uint8Array([0x08, 0x08, 0x00, 0x01])],
    ['a graph that is not a GraphProto', new Uint8Array([0x08, 0x08, 0x3a, 0x03, 0xff, 0xff, 0xff])],
  ];
  it.each(cases)('%s', async (_what, bytes) => {
    const e = await failure(bytes);
    expect(e.code).toBe('not-onnx');
    expect(e.message).toMatch(/^model\.onnx: /);
  });
});

describe('truncated', () => {
  const mlp = fixture('mlp.onnx');
  it.each([10, 100, 700, mlp.byteLength - 1])('mlp.onnx cut to %i bytes', async (n) => {
    const e = await failure(mlp.subarray(0, n));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/truncated/);
  });

  it('a nested message longer than its parent is malformed, not truncated', async () => {
    // A graph of 4 bytes whose only field claims 9.
    const e = await failure(new Uint8Array([0x08, 0x08, 0x3a, 0x04, 0x12, 0x09, 0x61, 0x62]));
    expect(e.code).toBe('not-onnx');
  });
});

describe('initializers', () => {
  const cases: [string, Uint8Array, FormatErrorCode, RegExp][] = [
    [
      'duplicate names',
      modelBytes([
        tensorProto({ name: 'w', dims: [1], dataType: 1, raw: f32(1) }),
        tensorProto({ name: 'w', dims: [1], dataType: 1, raw: f32(2) }),
      ]),
      'duplicate-name',
      /'w'/,
    ],
    ['raw_data shorter than the shape', one({ raw: f32(1) }), 'size-mismatch', /'w'.*4 bytes.*need 8/],
    ['raw_data longer than the shape', one({ raw: f32(1, 2, 3) }), 'size-mismatch', /'w'/],
    ['float_data with too few values', one({ floatData: [1] }), 'size-mismatch', /'w'.*1 values/],
    [
      'int32_data with too many FLOAT16 values',
      one({ dataType: 10, int32Data: [1, 2, 3] }),
      'size-mismatch',
      /'w'/,
    ],
    ['no data for a non-empty shape', one({}), 'size-mismatch', /'w'/],
    ['data_type UNDEFINED', one({ dataType: 0, raw: f32(1, 2) }), 'unknown-dtype', /'w'.*UNDEFINED/],
    ['data_type 99', one({ dataType: 99, raw: f32(1, 2) }), 'unknown-dtype', /'w'.*99/],
    ['a negative dim', one({ dims: [-2], raw: f32(1, 2) }), 'bad-shape', /'w'/],
    ['dims past 2^53 elements', one({ dims: ['4294967296', '4294967296'] }), 'bad-shape', /'w'/],
    ['raw_data and float_data both', one({ raw: f32(1, 2), floatData: [1, 2] }), 'unsupported', /both/],
    ['data in the wrong typed field', one({ int64Data: [1, 2] }), 'unsupported', /int64_data/],
    [
      'a segment',
      modelBytes([
        concat([
          tensorProto({ name: 'w', dims: [1], dataType: 1, raw: f32(1) }),
          new Uint8Array([0x1a, 0x02, 0x08, 0x00]),
        ]),
      ]),
      'unsupported',
      /segment/,
    ],
    [
      'a packed float_data of 6 bytes',
      modelBytes([
        concat([
          tensorProto({ name: 'w', dims: [2], dataType: 1 }),
          new Uint8Array([0x22, 0x06, 1, 2, 3, 4, 5, 6]),
        ]),
      ]),
      'not-onnx',
      /float_data/,
    ],
    [
      'raw_data of the wrong wire type',
      modelBytes([
        concat([tensorProto({ name: 'w', dims: [1], dataType: 1 }), new Uint8Array([0x48, 0x01])]),
      ]),
      'not-onnx',
      /wire type/,
    ],
  ];
  it.each(cases)('%s', async (_what, bytes, code, message) => {
    const e = await failure(bytes);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(/^model\.onnx: /);
    expect(e.message).toMatch(message);
  });
});

describe('external data', () => {
  const ext = (external: Record<string, string>, dims = [2]): Uint8Array =>
    modelBytes([tensorProto({ name: 'w', dims, dataType: 1, external, dataLocation: 1 })]);
  const data = (n: number): ByteSource => bytesSource(new Uint8Array(n), 'w.bin');

  it('a missing file names the file and the initializer', async () => {
    const e = await failure(fixture('external.onnx'), [], 'external.onnx');
    expect(e.code).toBe('missing-file');
    expect(e.message).toMatch(/weights\.bin/);
    expect(e.message).toMatch(/'fc\.weight'/);
  });

  it('a file of another name does not stand in for it', async () => {
    const e = await failure(fixture('external.onnx'), [fixtureSource('mlp.onnx')], 'external.onnx');
    expect(e.code).toBe('missing-file');
  });

  it('no location', async () => {
    expect((await failure(ext({ offset: '0' }), [data(8)])).code).toBe('missing-file');
  });

  const cases: [string, Record<string, string>, number, FormatErrorCode][] = [
    [
      'an offset past the end of the file',
      { location: 'w.bin', offset: '16', length: '8' },
      16,
      'out-of-bounds',
    ],
    [
      'a length past the end of the file',
      { location: 'w.bin', offset: '4', length: '8' },
      8,
      'out-of-bounds',
    ],
    ['an offset that is not a number', { location: 'w.bin', offset: '-4', length: '8' }, 8, 'out-of-bounds'],
    ['a length that is not the shape', { location: 'w.bin', offset: '0', length: '4' }, 8, 'size-mismatch'],
    ['no length and a file longer than the tensor', { location: 'w.bin', offset: '0' }, 12, 'size-mismatch'],
  ];
  it.each(cases)('%s', async (_what, info, size, code) => {
    const e = await failure(ext(info), [data(size)]);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(/'w'/);
  });

  it('two given files with the base name it needs', async () => {
    const e = await failure(ext({ location: 'w.bin', offset: '0', length: '8' }), [data(8), data(8)]);
    expect(e.code).toBe('duplicate-name');
  });

  it('no length and exactly the right file opens', async () => {
    const ckpt = await openOnnx(bytesSource(ext({ location: 'sub/w.bin' }), 'm.onnx'), [data(8)]);
    expect([...ckpt.tensors.values()][0]?.byteLength).toBe(8);
  });
});

describe('limits', () => {
  it('a file over 2 GB is refused before it is read', async () => {
    let reads = 0;
    const huge: ByteSource = {
      name: 'big.onnx',
      size: 2 ** 31,
      read: async () => (reads++, new Uint8Array(0)),
    };
    await expect(openOnnx(huge)).rejects.toMatchObject({ code: 'unsupported' });
    expect(reads).toBe(0);
  });
});
