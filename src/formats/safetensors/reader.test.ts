// Plan: the reader on hand-built bytes. Valid files that are easy to refuse by mistake open (no
// tensors, empty and scalar tensors, names like __proto__, header and data order that differ,
// null metadata, extra fields); only the prefix and the header are read at open, and tensor reads
// map to the right absolute ranges. Then each way a header can be wrong has its own case, with the
// error code and the file named; the torch-written fixture is truncated and corrupted too.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { FormatError } from '../errors';
import { blobSource, bytesSource, type ByteSource } from '../source';
import { readTensor, tensorName } from '../tensor';
import { MAX_HEADER_BYTES } from './header';
import { matchSafetensors, openSafetensors } from './reader';
import { expectFormatError, loggingSource, safetensorsBytes } from './testing';

const FILE = 'model.safetensors';
const FIXTURE = new URL('./__fixtures__/dtypes.safetensors', import.meta.url);

const open = (bytes: Uint8Array) => openSafetensors(bytesSource(bytes, FILE));
const openFails = (bytes: Uint8Array, code: FormatError['code']) =>
  expectFormatError(open(bytes), code, FILE);

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

describe('openSafetensors refuses', () => {
  it('a file too short for the length prefix (truncated)', async () => {
    await openFails(new Uint8Array(7), 'truncated');
  });

  it('a header length past the end of the file (header-length)', async () => {
    const error = await openFails(safetensorsBytes('{}', 0, 3n), 'header-length');
    expect(error.problem).toMatch(/past the end of the file \(10 bytes\)/);
  });

  it('a header length over the 100 MB cap, without reading the header (header-length)', async () => {
    const prefix = safetensorsBytes('{}', 0, BigInt(MAX_HEADER_BYTES + 1)).subarray(0, 8);
    const reads: number[] = [];
    const huge: ByteSource = {
      name: FILE,
      size: 2 * MAX_HEADER_BYTES,
      async read(offset, length) {
        reads.push(offset);
        return prefix.slice(offset, offset + length);
      },
    };
    const error = await expectFormatError(openSafetensors(huge), 'header-length', FILE);
    expect(error.problem).toContain('cap');
    expect(reads).toEqual([0]);
  });

  it('a header length in the top bytes of the u64 (header-length)', async () => {
    await openFails(safetensorsBytes('{}', 0, 2n ** 64n - 1n), 'header-length');
  });

  it('a header that is not UTF-8 (header-json)', async () => {
    const bytes = safetensorsBytes('{"a":1}');
    bytes[10] = 0xff;
    await openFails(bytes, 'header-json');
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"tensors"'],
    ['whitespace before {', ' {}'],
    ['a byte-order mark before {', '\ufeff{}'],
  ])('a header that is %s, not an object (header-json)', async (_, text) => {
    await openFails(safetensorsBytes(text), 'header-json');
  });

  it.each([
    ['cut off', '{"a":{"dtype":"F32"'],
    ['a trailing comma', '{"a":1,}'],
    ['NUL padding', '{}\0\0\0\0\0\0'],
    ['two values', '{} {}'],
  ])('a header that is not valid JSON: %s (header-json)', async (_, text) => {
    await openFails(safetensorsBytes(text), 'header-json');
  });

  it.each([
    ['a number', 1],
    ['null', null],
    ['an array', [{ dtype: 'F32', shape: [], data_offsets: [0, 4] }]],
  ])('a tensor entry that is %s (header-json)', async (_, entry) => {
    await openFails(safetensorsBytes(header({ a: entry })), 'header-json');
  });

  it.each(['dtype', 'shape', 'data_offsets'])('a tensor entry without %s (header-json)', async (field) => {
    const entry: Record<string, unknown> = { ...f32(0, 1) };
    delete entry[field];
    const error = await openFails(safetensorsBytes(header({ a: entry }), 4), 'header-json');
    expect(error.problem).toContain(field);
  });

  it('a dtype that is not a string (header-json)', async () => {
    await openFails(safetensorsBytes(header({ a: { ...f32(0, 1), dtype: 4 } }), 4), 'header-json');
  });

  it.each([
    ['a string', '"pt"'],
    ['an array', '["pt"]'],
    ['a number value', '{"format":1}'],
    ['a null value', '{"format":null}'],
    ['an object value', '{"format":{"name":"pt"}}'],
  ])('__metadata__ that is %s (header-json)', async (_, metadata) => {
    await openFails(safetensorsBytes(`{"__metadata__":${metadata}}`), 'header-json');
  });

  it('a key given twice inside a tensor entry (header-json)', async () => {
    const text = '{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}';
    const error = await openFails(safetensorsBytes(text, 4), 'header-json');
    expect(error.problem).toBe('key "dtype" appears twice in a');
  });

  it.each(['F4', 'f32', 'FLOAT', 'C64', ''])('an unknown dtype %j (unknown-dtype)', async (dtype) => {
    const error = await openFails(
      safetensorsBytes(header({ a: { ...f32(0, 1), dtype } }), 4),
      'unknown-dtype',
    );
    expect(error.problem).toContain(JSON.stringify(dtype));
  });

  it.each([
    ['a negative dimension', '[-1]'],
    ['a fractional dimension', '[1.5]'],
    ['a string dimension', '["4"]'],
    ['a null dimension', '[null]'],
    ['a dimension beyond 2^53', '[1152921504606846976]'],
    ['a dimension that JSON reads as Infinity', '[1e400]'],
    ['dimensions whose product passes 2^53', '[1048576,1048576,1048576]'],
    ['not an array', '4'],
  ])('a shape with %s (bad-shape)', async (_, shape) => {
    await openFails(
      safetensorsBytes(`{"a":{"dtype":"U8","shape":${shape},"data_offsets":[0,4]}}`, 4),
      'bad-shape',
    );
  });

  it('a shape nested deeper than JSON.stringify can go, still as a FormatError (bad-shape)', async () => {
    const depth = 100_000;
    const shape = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const error = await openFails(
      safetensorsBytes(`{"a":{"dtype":"U8","shape":${shape},"data_offsets":[0,0]}}`),
      'bad-shape',
    );
    expect(error.problem).toBe('tensor "a" has shape […]: dimensions must be non-negative integers');
  });

  it.each([
    ['one number', [0]],
    ['three numbers', [0, 4, 8]],
    ['strings', ['0', '4']],
    ['an object', { begin: 0, end: 4 }],
  ])('data_offsets that are %s (header-json)', async (_, offsets) => {
    await openFails(
      safetensorsBytes(header({ a: { dtype: 'U8', shape: [4], data_offsets: offsets } }), 4),
      'header-json',
    );
  });

  it.each([
    ['negative', [-4, 0]],
    ['fractional', [0.5, 4.5]],
    ['beyond 2^53', [2 ** 60, 2 ** 60 + 4]],
  ])('data_offsets that are %s (out-of-bounds)', async (_, offsets) => {
    await openFails(
      safetensorsBytes(header({ a: { dtype: 'U8', shape: [4], data_offsets: offsets } }), 4),
      'out-of-bounds',
    );
  });

  it('data_offsets that end before they begin (overlap)', async () => {
    await openFails(
      safetensorsBytes(header({ a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }), 4),
      'overlap',
    );
  });

  it('overlapping data ranges (overlap)', async () => {
    const error = await openFails(safetensorsBytes(header({ a: f32(0, 2), b: f32(4, 2) }), 12), 'overlap');
    expect(error.problem).toBe('tensor "b" [4, 12) overlaps tensor "a" [0, 8)');
  });

  it('an empty tensor placed inside another tensor (overlap)', async () => {
    const text = header({ a: f32(0, 2), e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] } });
    await openFails(safetensorsBytes(text, 8), 'overlap');
  });

  it('two tensors on the same range (overlap)', async () => {
    await openFails(safetensorsBytes(header({ a: f32(0, 2), b: f32(0, 2) }), 8), 'overlap');
  });

  it('a gap between tensors: the data section must be tiled exactly, as the Rust crate requires (overlap)', async () => {
    const error = await openFails(safetensorsBytes(header({ a: f32(0, 1), b: f32(8, 1) }), 12), 'overlap');
    expect(error.problem).toBe('bytes [4, 8) of the data section, before tensor "b", belong to no tensor');
  });

  it('a gap before the first tensor (overlap)', async () => {
    await openFails(safetensorsBytes(header({ a: f32(4, 1) }), 8), 'overlap');
  });

  it('bytes after the last tensor (overlap)', async () => {
    const error = await openFails(safetensorsBytes(header({ a: f32(0, 1) }), 5), 'overlap');
    expect(error.problem).toContain('last 1 bytes');
  });

  it.each([
    ['too few bytes for the shape', { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] }],
    ['too many bytes for the shape', { dtype: 'BF16', shape: [3], data_offsets: [0, 8] }],
    ['bytes for an empty shape', { dtype: 'I64', shape: [4, 0], data_offsets: [0, 8] }],
    ['no bytes for a scalar', { dtype: 'F16', shape: [], data_offsets: [0, 0] }],
  ])('%s (size-mismatch)', async (_, entry) => {
    await openFails(safetensorsBytes(header({ a: entry }), 20), 'size-mismatch');
  });

  it('a tensor name given twice, which JSON.parse would hide (duplicate-name)', async () => {
    const text = `{"w":${JSON.stringify(f32(0, 1))},"w":${JSON.stringify(f32(4, 1))}}`;
    const error = await openFails(safetensorsBytes(text, 8), 'duplicate-name');
    expect(error.problem).toBe('the header names "w" twice');
  });

  it('a tensor name given twice, once spelled with escapes (duplicate-name)', async () => {
    const text = `{"w.a":${JSON.stringify(f32(0, 1))},"w\\u002e\\u0061":${JSON.stringify(f32(4, 1))}}`;
    await openFails(safetensorsBytes(text, 8), 'duplicate-name');
  });

  it('__metadata__ given twice (duplicate-name)', async () => {
    await openFails(safetensorsBytes('{"__metadata__":{},"__metadata__":{"a":"b"}}'), 'duplicate-name');
  });

  it('a file whose data section is shorter than the last data offset (truncated)', async () => {
    const error = await openFails(safetensorsBytes(header({ a: f32(0, 2), b: f32(8, 2) }), 12), 'truncated');
    expect(error.problem).toMatch(/need \d+ bytes/);
  });
});

describe('a file written by torch, damaged', () => {
  const name = 'dtypes.safetensors';
  const load = async () => new Uint8Array(await readFile(FIXTURE));
  const headerEnd = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const openDamaged = (bytes: Uint8Array) => openSafetensors(bytesSource(bytes, name));

  it('opens intact', async () => {
    expect((await openDamaged(await load())).tensors.size).toBe(15);
  });

  it('cut inside the data section (truncated)', async () => {
    const bytes = await load();
    await expectFormatError(openDamaged(bytes.subarray(0, bytes.byteLength - 3)), 'truncated', name);
  });

  it('cut inside the header (header-length)', async () => {
    const bytes = await load();
    await expectFormatError(openDamaged(bytes.subarray(0, headerEnd(bytes) - 1)), 'header-length', name);
  });

  it('with a byte appended (overlap)', async () => {
    const bytes = await load();
    const longer = new Uint8Array(bytes.byteLength + 1);
    longer.set(bytes);
    await expectFormatError(openDamaged(longer), 'overlap', name);
  });

  it('with a dtype renamed (unknown-dtype)', async () => {
    const bytes = await load();
    const text = new TextDecoder().decode(bytes.subarray(8, headerEnd(bytes)));
    const at = 8 + text.indexOf('"BF16"') + 1;
    bytes.set(new TextEncoder().encode('XF16'), at);
    await expectFormatError(openDamaged(bytes), 'unknown-dtype', name);
  });

  it('with one data offset changed (size-mismatch)', async () => {
    const bytes = await load();
    const text = new TextDecoder().decode(bytes.subarray(8, headerEnd(bytes)));
    const at = 8 + text.indexOf('[152,168]') + 1;
    bytes.set(new TextEncoder().encode('160'), at);
    await expectFormatError(openDamaged(bytes), 'size-mismatch', name);
  });

  it('with the header closed early (header-json)', async () => {
    const bytes = await load();
    bytes[headerEnd(bytes) - 40] = 0x7d; // '}' in the middle of the JSON
    await expectFormatError(openDamaged(bytes), 'header-json', name);
  });
});
