// Plan: damaged input never escapes as anything but a FormatError. Random byte changes (aimed
// mostly at the length prefix and the header, with JSON punctuation as well as random bytes),
// truncations and extensions of a torch-written file and of random files from our writer either
// open or throw a FormatError; a file that opens reads every tensor without any error at all. The
// same holds for a damaged sharded index.
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPE_BYTES, elementCount, type DType } from '../dtype';
import { isFormatError } from '../errors';
import { MemorySink } from '../sink';
import { bytesSource } from '../source';
import { readTensor } from '../tensor';
import { strictSource } from '../testing';
import { openSafetensors } from './reader';
import { openShardedSafetensors } from './sharded';
import { writeSafetensors, type TensorWithBytes } from './writer';

const RUNS = { numRuns: 200 };
const FIXTURES = new URL('./__fixtures__/', import.meta.url);
const torchFile = new Uint8Array(await readFile(new URL('dtypes.safetensors', FIXTURES)));

const headerEnd = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));

/** A byte to write: anything, or a character that changes the JSON's structure. */
const arbByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(...'{}[]",:-.0123456789eE \\u'.split('').map((c) => c.charCodeAt(0))),
);

const DIGITS = '0123456789'.split('').map((c) => c.charCodeAt(0));
type Region = 'prefix' | 'header' | 'header digit' | 'anywhere';

/** A position in a region, taken modulo its length (fast-check's doubles cluster near 0). */
const arbWhere = fc.nat();

/**
 * Up to 4 byte changes, each at a position in the region it aims at. Half the
 * runs change only digits of shapes and data_offsets: the JSON mostly stays valid, so the checks
 * behind the parser (sizes, overlaps, truncation) get exercised as often as the parser.
 */
const arbChanges = fc.oneof(
  fc.array(fc.tuple(fc.constantFrom<Region>('prefix', 'header', 'anywhere'), arbWhere, arbByte), {
    minLength: 1,
    maxLength: 4,
  }),
  fc.array(fc.tuple(fc.constant<Region>('header digit'), arbWhere, arbByte), { minLength: 1, maxLength: 4 }),
);

/** A digit of a number in an array (a shape or data_offsets): digits back to a '[' or a ','. */
function isArrayDigit(bytes: Uint8Array, at: number): boolean {
  if (!DIGITS.includes(bytes[at]!)) return false;
  let before = at - 1;
  while (DIGITS.includes(bytes[before]!)) before--;
  return bytes[before] === 0x5b || bytes[before] === 0x2c;
}

function damage(bytes: Uint8Array, changes: readonly [Region, number, number][]): Uint8Array {
  const out = bytes.slice();
  const end = Math.min(headerEnd(bytes), bytes.byteLength);
  const digitsAt = [...Array(Math.max(end - 8, 0)).keys()]
    .map((i) => i + 8)
    .filter((i) => isArrayDigit(bytes, i));
  for (const [region, where, value] of changes) {
    if (region === 'header digit') {
      const at = digitsAt[where % digitsAt.length];
      if (at !== undefined) out[at] = DIGITS[value % 10]!;
      continue;
    }
    const [from, to] = region === 'prefix' ? [0, 8] : region === 'header' ? [8, end] : [0, bytes.byteLength];
    if (to > from) out[from + (where % (to - from))] = value;
  }
  return out;
}

/** Opens; if that works, reads every tensor whole and in two halves, which must not fail at all. */
async function openAndReadAll(bytes: Uint8Array): Promise<void> {
  let checkpoint;
  try {
    // strict: a read outside the file is a bug here, not the 'truncated' FormatError a real source gives
    checkpoint = await openSafetensors(strictSource(bytes, 'damaged.safetensors'));
  } catch (e) {
    if (!isFormatError(e)) throw e;
    return;
  }
  for (const t of checkpoint.tensors.values()) {
    expect(t.byteLength).toBe(elementCount(t.shape)! * DTYPE_BYTES[t.dtype]);
    expect((await readTensor(t)).byteLength).toBe(t.byteLength);
    const half = Math.floor(t.byteLength / 2);
    expect((await t.data.read(half, t.byteLength)).byteLength).toBe(t.byteLength - half);
  }
}

const arbFile = fc
  .uniqueArray(
    fc.record({
      name: fc.string({ maxLength: 6 }).filter((n) => n !== '__metadata__'),
      dtype: fc.constantFrom(...(Object.keys(DTYPE_BYTES) as DType[])),
      shape: fc.array(fc.nat(3), { maxLength: 2 }),
    }),
    { selector: (t) => t.name, maxLength: 5 },
  )
  .map(async (specs) => {
    const tensors: TensorWithBytes[] = specs.map((s) => ({
      ...s,
      bytes: new Uint8Array(elementCount(s.shape)! * DTYPE_BYTES[s.dtype]),
    }));
    const sink = new MemorySink();
    await writeSafetensors(sink, tensors, { format: 'pt' });
    return sink.bytes();
  });

describe('damaged safetensors files open, or fail with a FormatError', () => {
  it('a torch-written file with bytes changed', async () => {
    await fc.assert(
      fc.asyncProperty(arbChanges, (changes) => openAndReadAll(damage(torchFile, changes))),
      RUNS,
    );
  });

  it('a torch-written file cut short or extended', async () => {
    const arbLength = fc.integer({ min: 0, max: torchFile.byteLength + 16 });
    await fc.assert(
      fc.asyncProperty(arbLength, async (length) => {
        const resized = new Uint8Array(length);
        resized.set(torchFile.subarray(0, length));
        await openAndReadAll(resized);
      }),
      RUNS,
    );
  });

  it('random files from our writer, with bytes changed and cut short', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbFile,
        arbChanges,
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (file, changes, keep) => {
          const bytes = damage(await file, changes);
          await openAndReadAll(bytes.subarray(0, Math.ceil(keep * bytes.byteLength)));
        },
      ),
      RUNS,
    );
  });
});

describe('a damaged sharded index', () => {
  it('opens, or fails with a FormatError', async () => {
    const sharded = new URL('sharded/', FIXTURES);
    const indexText = new Uint8Array(await readFile(new URL('model.safetensors.index.json', sharded)));
    const shards = await Promise.all(
      ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].map(async (name) =>
        bytesSource(new Uint8Array(await readFile(new URL(name, sharded))), name),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arbChanges, async (changes) => {
        const damaged = damage(
          indexText,
          changes.map(([, where, value]) => ['anywhere' as const, where, value]),
        );
        await openShardedSafetensors(bytesSource(damaged, 'model.safetensors.index.json'), shards).catch(
          (e: unknown) => {
            if (!isFormatError(e)) throw e;
          },
        );
      }),
      RUNS,
    );
  });
});
