// Plan: the reader on hand-built bytes. Valid files that are easy to refuse by mistake open (no
// tensors, empty and scalar tensors, names like __proto__, header and data order that differ,
// null metadata, extra fields); only the prefix and the header are read at open, and tensor reads
// map to the right absolute ranges. Each way a header can be wrong: ./reader-refuses.test.ts; the
// torch-written fixture truncated and corrupted: ./reader-damaged.test.ts.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { blobSource, bytesSource } from '../source';
import { readTensor, tensorName } from '../tensor';
import { MAX_HEADER_BYTES } from './header';
import { matchSafetensors, openSafetensors } from './reader';
import { expectFormatError, loggingSource, safetensorsBytes } from './testing';

const FILE = 'model.safetensors';
const FIXTURE = new URL('./__fixtures__/dtypes.safetensors', import.meta.url);

const open = (bytes: Uint8Array) => openSafetensors(bytesSource(bytes, FILE));

/** A header with one entry per tensor, in the given order. */
function header(entries: Record<string, unknown>): string {
  return JSON.stringify(entries);
}

const f32 = (begin: number, count: number) => ({
  dtype: 'F32',
  shape: [count],
  data_offsets: [begin, begin + 4 * count],
});

describe('matchSafetensors', () => {
  it('matches a file written by torch', async () => {
    expect(matchSafetensors(await readFile(FIXTURE))).toBe(true);
  });

  it.each([
    ['the smallest header, {}', safetensorsBytes('{}'), true],
    ['a header length at the cap', safetensorsBytes('{', 0, BigInt(MAX_HEADER_BYTES)), true],
    ['a header length over the cap', safetensorsBytes('{', 0, BigInt(MAX_HEADER_BYTES + 1)), false],
    ['a header length below 2', safetensorsBytes('{', 0, 1n), false],
    ['a header that does not start with {', safetensorsBytes('[]'), false],
    [
      'an ONNX-like protobuf start',
      new Uint8Array([0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63, 0x68]),
      false,
    ],
    ['fewer than 9 bytes', safetensorsBytes('{}').subarray(0, 8), false],
  ])('%s → %s', (_, bytes, expected) => {
    expect(matchSafetensors(bytes)).toBe(expected);
  });

  it('reads a view that does not start at its buffer start', () => {
    const bytes = safetensorsBytes('{}');
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    expect(matchSafetensors(shifted.subarray(3))).toBe(true);
  });
});

describe('openSafetensors on valid files', () => {
  it('opens a file with no tensors, with or without header padding', async () => {
    for (const text of ['{}', '{}      ', '{"__metadata__":{}}']) {
      const checkpoint = await open(safetensorsBytes(text));
      expect(checkpoint).toMatchObject({ format: 'safetensors', files: [FILE] });
      expect(checkpoint.tensors.size).toBe(0);
      expect(checkpoint.metadata.size).toBe(0);
    }
  });

  it('lists tensors in data order whatever the header order, and reads each one', async () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i);
    const text = header({ c: f32(16, 2), a: f32(0, 1), b: f32(4, 3) });
    const checkpoint = await open(safetensorsBytes(text, data));
    expect([...checkpoint.tensors.keys()]).toEqual(['a', 'b', 'c']);
    const b = checkpoint.tensors.get(tensorName('b'));
    expect(b).toMatchObject({ name: 'b', dtype: 'F32', shape: [3], byteLength: 12, file: FILE });
    expect([...(await readTensor(b!))]).toEqual([...data.subarray(4, 16)]);
  });

  it('opens empty tensors at [x, x] (also between and beside others) and scalars with shape []', async () => {
    const text = header({
      first: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
      scalar: { dtype: 'F64', shape: [], data_offsets: [0, 8] },
      middle: { dtype: 'BF16', shape: [2, 0, 3], data_offsets: [8, 8] },
      flag: { dtype: 'BOOL', shape: [], data_offsets: [8, 9] },
      last: { dtype: 'I64', shape: [0, 5], data_offsets: [9, 9] },
    });
    const data = new Uint8Array(9);
    new DataView(data.buffer).setFloat64(0, -1.5, true);
    data[8] = 1;
    const checkpoint = await open(safetensorsBytes(text, data));
    expect([...checkpoint.tensors.keys()]).toEqual(['first', 'scalar', 'middle', 'flag', 'last']);
    const scalar = await readTensor(checkpoint.tensors.get(tensorName('scalar'))!);
    expect(new DataView(scalar.buffer).getFloat64(0, true)).toBe(-1.5);
    expect((await readTensor(checkpoint.tensors.get(tensorName('middle'))!)).byteLength).toBe(0);
    expect([...(await readTensor(checkpoint.tensors.get(tensorName('flag'))!))]).toEqual([1]);
  });

  it('keeps empty tensors at one offset in header order, integer-like names included', async () => {
    const empty = { dtype: 'U8', shape: [0], data_offsets: [0, 0] };
    const text = `{"b":${JSON.stringify(empty)},"10":${JSON.stringify(empty)},"2":${JSON.stringify(empty)}}`;
    expect([...(await open(safetensorsBytes(text))).tensors.keys()]).toEqual(['b', '10', '2']);
  });

  it('treats __proto__, constructor and other Object.prototype names as tensor names, without pollution', async () => {
    const names = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf'];
    const text = `{${names.map((n, i) => `"${n}":${JSON.stringify(f32(4 * i, 1))}`).join(',')},"__metadata__":{"__proto__":"x","constructor":"y"}}`;
    const checkpoint = await open(safetensorsBytes(text, 4 * names.length));
    expect([...checkpoint.tensors.keys()]).toEqual(names);
    expect(checkpoint.tensors.get(tensorName('__proto__'))?.byteLength).toBe(4);
    expect([...checkpoint.metadata]).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    expect(({} as Record<string, unknown>)['dtype']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('data_offsets');
  });

  it('reads __metadata__ as a Map, and null metadata as none (as the Rust crate does)', async () => {
    const withMetadata = await open(safetensorsBytes('{"__metadata__":{"format":"pt","note":"ü ✓"}}'));
    expect([...withMetadata.metadata]).toEqual([
      ['format', 'pt'],
      ['note', 'ü ✓'],
    ]);
    expect((await open(safetensorsBytes('{"__metadata__":null}'))).metadata.size).toBe(0);
  });

  it('ignores fields it does not know and accepts whitespace inside the JSON', async () => {
    const text =
      '{\n  "w" : { "data_offsets" : [ 0 , 4 ] , "dtype" : "I32" , "shape" : [ 1 ] , "extra" : {"a":[1]} }\n}  ';
    const checkpoint = await open(safetensorsBytes(text, 4));
    expect(checkpoint.tensors.get(tensorName('w'))).toMatchObject({ dtype: 'I32', shape: [1] });
  });

  it('reads only the length prefix and the header at open, then exactly the ranges asked for', async () => {
    const text = header({ a: f32(0, 4), b: f32(16, 4) });
    const data = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
    const source = loggingSource(safetensorsBytes(text, data), FILE);
    const checkpoint = await openSafetensors(source);
    const headerLength = new TextEncoder().encode(text).byteLength;
    expect(source.reads).toEqual([
      [0, 8],
      [8, headerLength],
    ]);
    const b = checkpoint.tensors.get(tensorName('b'))!;
    const part = await b.data.read(5, 11);
    expect(source.reads.at(-1)).toEqual([8 + headerLength + 16 + 5, 6]);
    expect([...part]).toEqual([...data.subarray(21, 27)]);
    expect((await b.data.read(16, 16)).byteLength).toBe(0);
  });

  it('opens a Blob, as the browser gives a File', async () => {
    const bytes = safetensorsBytes(
      header({ a: f32(0, 2) }),
      Uint8Array.from({ length: 8 }, (_, i) => i),
    );
    const checkpoint = await openSafetensors(blobSource(new Blob([bytes]), FILE));
    expect([...(await checkpoint.tensors.get(tensorName('a'))!.data.read(2, 6))]).toEqual([2, 3, 4, 5]);
  });

  it.each([
    ['a negative start', -1, 4],
    ['an end past the tensor', 0, 17],
    ['an end before the start', 8, 4],
    ['a fractional offset', 0.5, 4],
    ['NaN', Number.NaN, 4],
  ])('refuses a tensor read with %s (out-of-bounds)', async (_, start, end) => {
    const checkpoint = await open(safetensorsBytes(header({ a: f32(0, 4) }), 16));
    const error = await expectFormatError(
      checkpoint.tensors.get(tensorName('a'))!.data.read(start, end),
      'out-of-bounds',
      FILE,
    );
    expect(error.problem).toContain('"a"');
  });
});
