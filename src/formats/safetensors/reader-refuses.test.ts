// Plan: each way a safetensors header (or its data section) can be wrong has its own case, with the
// error code and the file named.
import { describe, expect, it } from 'vitest';
import type { FormatError } from '../errors';
import { bytesSource, type ByteSource } from '../source';
import { MAX_HEADER_BYTES } from './header';
import { openSafetensors } from './reader';
import { expectFormatError, safetensorsBytes } from './testing';

const FILE = 'model.safetensors';

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
