// Plan: hostile safetensors, beyond the damaged-fixture fuzzing of robustness.test.ts.
//  - Random headers built from the format's own vocabulary (keys that are Object.prototype names,
//    dtypes real and made up, shapes and offsets small, huge, negative, fractional or not numbers,
//    nested junk) over data sections of random length, and random bytes behind a plausible length
//    prefix: opening and reading every tensor either works or throws a FormatError naming the
//    file; never another error, never a read outside the file (a strict source throws a non-
//    FormatError on one), never more bytes read than the file has plus the tensors read twice,
//    never a hang (each case has a time limit), and Object.prototype is never touched.
//  - Names such as __proto__ and constructor round-trip through the writer and the reader as
//    ordinary tensor and metadata names, alone and in a sharded index.
//  - A truncated shard of a sharded checkpoint fails naming that shard: when it is opened (any cut)
//    and when it is cut on disk after it was opened (at the tensor read).
//  - 100 000 tiny tensors: the header opens in two reads and well under a second.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DTYPE_BYTES, elementCount, type DType } from '../dtype';
import { isFormatError } from '../errors';
import { MAX_TENSORS_PER_FILE } from '../limits';
import { fileSource } from '../node-files';
import { MemorySink } from '../sink';
import { readTensor } from '../tensor';
import { checkNoPollution, outcome, PROTOTYPE_NAMES, strictSource } from '../testing';
import { openSafetensors } from './reader';
import { openShardedSafetensors } from './sharded';
import { safetensorsBytes, expectFormatError } from './testing';
import { writeSafetensors, type TensorWithBytes } from './writer';

const RUN = { numRuns: 300, timeout: 5000 };
const DTYPES = Object.keys(DTYPE_BYTES) as DType[];

/** Opens, reads every tensor whole and by halves; only FormatErrors may come out. */
async function openAndReadAll(bytes: Uint8Array, name = 'hostile.safetensors') {
  const source = strictSource(bytes, name);
  const result = await outcome(async () => {
    const checkpoint = await openSafetensors(source);
    let tensorBytes = 0;
    for (const t of checkpoint.tensors.values()) {
      expect(t.byteLength).toBe(elementCount(t.shape)! * DTYPE_BYTES[t.dtype]);
      expect((await readTensor(t)).byteLength).toBe(t.byteLength);
      const half = Math.floor(t.byteLength / 2);
      expect((await t.data.read(half, t.byteLength)).byteLength).toBe(t.byteLength - half);
      tensorBytes += t.byteLength * 2;
    }
    // The header once, the tensors as asked: nothing read over and over.
    expect(source.bytesRead).toBeLessThanOrEqual(bytes.byteLength + tensorBytes);
  });
  checkNoPollution();
  return result;
}

const arbName = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES, '__metadata__', '', 'a', 'a.b', '\u0000', 'ü'),
  fc.string({ maxLength: 8 }),
);
const arbDim = fc.oneof(
  fc.nat(4),
  fc.constantFrom(-1, 0.5, 2 ** 53, 2 ** 31, 1e300, -0),
  fc.constantFrom<unknown>('3', null, true, [], {}),
);
const arbOffset = fc.oneof(
  fc.nat(64),
  fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 64, Number.MAX_SAFE_INTEGER, 1e308),
  fc.constantFrom<unknown>('0', null, [0]),
);
const arbEntry = fc.oneof(
  fc.record(
    {
      dtype: fc.oneof(
        fc.constantFrom<unknown>(...DTYPES),
        fc.constantFrom<unknown>('f32', 'F128', '', 1, null),
      ),
      shape: fc.oneof(fc.array(arbDim, { maxLength: 3 }), fc.constantFrom<unknown>(null, 4, '[]')),
      data_offsets: fc.oneof(fc.tuple(arbOffset, arbOffset), fc.array(arbOffset, { maxLength: 3 })),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Header text: entries written in order (a JSON object literal would eat a "__proto__" key). */
const arbHeader = fc
  .array(fc.tuple(arbName, arbEntry), { maxLength: 6 })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);

describe('random headers and bytes open, or fail with a FormatError', () => {
  it('random headers over data sections of random length', async () => {
    await fc.assert(
      fc.asyncProperty(arbHeader, fc.nat(96), async (header, dataBytes) => {
        await openAndReadAll(safetensorsBytes(header, dataBytes));
      }),
      RUN,
    );
  });

  it('random headers whose tensors are laid out consistently (the checks behind the parser)', async () => {
    const arbTensors = fc.array(
      fc.record({
        name: arbName,
        dtype: fc.constantFrom(...DTYPES),
        shape: fc.array(fc.nat(3), { maxLength: 3 }),
      }),
      { maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(arbTensors, fc.integer({ min: -8, max: 8 }), async (tensors, slack) => {
        let at = 0;
        const entries = tensors.map((t) => {
          const bytes = elementCount(t.shape)! * DTYPE_BYTES[t.dtype];
          const info = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + bytes] };
          at += bytes;
          return `${JSON.stringify(t.name)}:${JSON.stringify(info)}`;
        });
        const text = `{${entries.join(',')}}`;
        const result = await openAndReadAll(safetensorsBytes(text, Math.max(0, at + slack)));
        // Names unique, no __metadata__ tensor and exact data: the file opens.
        const names = tensors.map((t) => t.name);
        if (slack === 0 && new Set(names).size === names.length && !names.includes('__metadata__'))
          expect(result).toBe('ok');
      }),
      RUN,
    );
  });

  it('random bytes behind a plausible length prefix', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.oneof(fc.nat(220), fc.constantFrom(2 ** 32, 2 ** 53, 100_000_001)),
        async (body, declared) => {
          const bytes = new Uint8Array(8 + body.byteLength);
          new DataView(bytes.buffer).setBigUint64(0, BigInt(declared), true);
          bytes.set(body, 8);
          if (body.byteLength > 0) bytes[8] = 0x7b; // '{'
          await openAndReadAll(bytes);
        },
      ),
      RUN,
    );
  });

  it('any bytes at all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), (bytes) => openAndReadAll(bytes).then(() => {})),
      RUN,
    );
  });
});

const tensor = (name: string, i: number): TensorWithBytes => ({
  name,
  dtype: 'F32',
  shape: [2],
  bytes: new Uint8Array(new Float32Array([i, -i]).buffer),
});

describe('names that are Object.prototype properties are ordinary names', () => {
  it('round-trip through the writer and the reader, with any other names', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 6 })), {
          minLength: 1,
          maxLength: 10,
        }),
        async (names) => {
          const kept = names.filter((n) => n !== '__metadata__');
          const sink = new MemorySink();
          const metadata = new Map(kept.map((n, i) => [n, `v${i}`]));
          await writeSafetensors(
            sink,
            kept.map((n, i) => tensor(n, i)),
            metadata,
          );
          const checkpoint = await openSafetensors(strictSource(sink.bytes(), 'names.safetensors'));
          expect([...checkpoint.tensors.keys()]).toEqual(kept);
          // (a JSON object lists integer-like keys first, so metadata order may differ)
          expect(new Map(checkpoint.metadata)).toEqual(metadata);
          for (const [i, n] of kept.entries()) {
            const got = new Float32Array((await readTensor(checkpoint.tensors.get(n as never)!)).buffer);
            expect(Array.from(got)).toEqual([i, -i]);
          }
          checkNoPollution();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('in a sharded index', async () => {
    const names = [...PROTOTYPE_NAMES];
    const shards = await Promise.all(
      [names.slice(0, 4), names.slice(4)].map(async (part, k) => {
        const sink = new MemorySink();
        await writeSafetensors(
          sink,
          part.map((n, i) => tensor(n, k * 10 + i)),
        );
        return strictSource(sink.bytes(), `model-0000${k + 1}-of-00002.safetensors`);
      }),
    );
    const weightMap = names.map(
      (n, i) => `${JSON.stringify(n)}:"model-0000${i < 4 ? 1 : 2}-of-00002.safetensors"`,
    );
    const index = `{"metadata":{"__proto__":"x","total_size":64},"weight_map":{${weightMap.join(',')}}}`;
    const checkpoint = await openShardedSafetensors(
      strictSource(new TextEncoder().encode(index), 'model.safetensors.index.json'),
      shards,
    );
    expect(new Set(checkpoint.tensors.keys())).toEqual(new Set(names));
    expect(checkpoint.metadata.get('__proto__')).toBe('x');
    checkNoPollution();
  });
});

describe('a truncated shard', () => {
  let dir: string;
  let shardBytes: Uint8Array[];
  const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const INDEX = `{"weight_map":{"a":"${SHARDS[0]}","b":"${SHARDS[0]}","c":"${SHARDS[1]}"}}`;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shards-'));
    shardBytes = await Promise.all(
      [['a', 'b'], ['c']].map(async (names) => {
        const sink = new MemorySink();
        await writeSafetensors(
          sink,
          // 128 KiB each: past the 64 KiB block that reading the header brings in
          names.map((n, i) => ({
            ...tensor(n, i),
            shape: [32768],
            bytes: new Uint8Array(131072).fill(i + 1),
          })),
        );
        return sink.bytes();
      }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('cut anywhere fails on opening, naming that shard', async () => {
    const full = shardBytes[1]!;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: full.byteLength - 1 }), async (cut) => {
        const shards = [
          strictSource(shardBytes[0]!, SHARDS[0]!),
          strictSource(full.subarray(0, cut), SHARDS[1]!),
        ];
        const index = strictSource(new TextEncoder().encode(INDEX), 'model.safetensors.index.json');
        const e = await expectFormatError(
          openShardedSafetensors(index, shards),
          cut < 8
            ? 'truncated'
            : cut < 8 + Number(new DataView(full.buffer).getBigUint64(0, true))
              ? 'header-length'
              : 'truncated',
          SHARDS[1]!,
        );
        expect(e.message.startsWith(SHARDS[1]!)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('cut on disk after it was opened fails at the tensor read, naming that shard', async () => {
    const paths = await Promise.all(
      SHARDS.map(async (name, k) => {
        const path = join(dir, name);
        await writeFile(path, shardBytes[k]!);
        return path;
      }),
    );
    const indexPath = join(dir, 'model.safetensors.index.json');
    await writeFile(indexPath, INDEX);
    const sources = await Promise.all([indexPath, ...paths].map(fileSource));
    const checkpoint = await openShardedSafetensors(sources[0]!, sources.slice(1));
    expect((await readTensor(checkpoint.tensors.get('a' as never)!)).byteLength).toBe(131072);
    await truncate(paths[1]!, shardBytes[1]!.byteLength - 1000);
    await expectFormatError(readTensor(checkpoint.tensors.get('c' as never)!), 'changed', paths[1]!);
    // The other shard still reads.
    expect((await readTensor(checkpoint.tensors.get('b' as never)!)).byteLength).toBe(131072);
    await Promise.all(sources.map((s) => s.close()));
  });
});

// A step quadratic in the tensor count would take hours: the test's limit catches it, no clock here.
it('100 000 tiny tensors: the header opens in two reads', async () => {
  const n = 100_000;
  const sink = new MemorySink();
  await writeSafetensors(
    sink,
    Array.from({ length: n }, (_, i) => tensor(`layers.${i}.weight`, i)),
  );
  const source = strictSource(sink.bytes(), 'many.safetensors');
  const checkpoint = await openSafetensors(source);
  expect(checkpoint.tensors.size).toBe(n);
  expect(source.reads).toBe(2);
}, 60_000);

/** A file of `n` one-element F32 tensors, its header written as text (the writer would take a while). */
function tinyTensorsFile(n: number, metadata = false): Uint8Array {
  const parts: string[] = metadata ? ['"__metadata__":{"a":"b"}'] : [];
  for (let i = 0; i < n; i++)
    parts.push(`"t.${i}":{"dtype":"F32","shape":[1],"data_offsets":[${i * 4},${i * 4 + 4}]}`);
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const file = new Uint8Array(8 + json.byteLength + n * 4);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  file.set(json, 8);
  return file;
}

it('a legal giant, 10⁶ tensors in a 58 MB header: refused by count before JSON.parse builds an object per tensor', async () => {
  // Before: ~1.7 GB and ~10 s to open. The bound is a count (src/formats/limits.ts), checked by a scan
  // that keeps only the keys; JSON.parse never sees the header.
  const file = tinyTensorsFile(1_000_000);
  const parse = vi.spyOn(JSON, 'parse');
  try {
    const error = await openSafetensors(strictSource(file, 'giant.safetensors')).catch((e: unknown) => e);
    expect(isFormatError(error, 'unsupported'), String(error)).toBe(true);
    expect(String(error)).toContain(
      `giant.safetensors: the header lists over ${MAX_TENSORS_PER_FILE} tensors`,
    );
    expect(parse.mock.calls.filter(([text]) => text.length > 1e6)).toEqual([]);
  } finally {
    parse.mockRestore();
  }
}, 60_000);

it('one tensor over the bound is refused, with or without __metadata__', async () => {
  for (const metadata of [false, true]) {
    const error = await openSafetensors(
      strictSource(tinyTensorsFile(MAX_TENSORS_PER_FILE + 1, metadata), 'over.safetensors'),
    ).catch((e: unknown) => e);
    expect(isFormatError(error, 'unsupported'), String(error)).toBe(true);
  }
}, 120_000);
