// Plan: files written by another tool (torch tensors, serialized by the independent Python writer
// tools/fixtures/make_safetensors_fixtures.py) decode to exactly the values torch had, listed in
// __fixtures__/expected.json: every dtype torch 1.13 has, NaN, ±Inf, −0 and subnormals, I64 beyond
// 2^53, scalars, empty tensors, a module's state_dict, and a sharded set opened from disk. Writing
// what we read back out with our writer gives the same tensors again.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, type DType } from '../dtype';
import { fileSource, type FileSource } from '../node-files';
import { MemorySink } from '../sink';
import { bytesSource } from '../source';
import { readTensor, tensorName, type Checkpoint } from '../tensor';
import { openSafetensors } from './reader';
import { openShardedSafetensors } from './sharded';
import { writeSafetensors } from './writer';

type Value = number | string | boolean;
interface ExpectedTensor {
  name: string;
  dtype: DType;
  shape: number[];
  values: Value[];
}
interface ExpectedCheckpoint {
  metadata: Record<string, string | number>;
  shards?: string[];
  tensors: ExpectedTensor[];
}

const FIXTURES = new URL('./__fixtures__/', import.meta.url);
const fixturePath = (name: string) => new URL(name, FIXTURES).pathname;
const expected = JSON.parse(await readFile(fixturePath('expected.json'), 'utf8')) as Record<
  string,
  ExpectedCheckpoint
>;

/** Each element as expected.json writes it: I64 as decimal text, non-finite floats as text. */
function decode(bytes: Uint8Array<ArrayBuffer>, dtype: DType): Value[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const float = (x: number): Value => (Number.isFinite(x) ? x : String(x));
  const read: Partial<Record<DType, [number, (at: number) => Value]>> = {
    F64: [8, (at) => float(view.getFloat64(at, true))],
    F32: [4, (at) => float(view.getFloat32(at, true))],
    F16: [2, (at) => float(f16BitsToF32(view.getUint16(at, true)))],
    BF16: [2, (at) => float(bf16BitsToF32(view.getUint16(at, true)))],
    I64: [8, (at) => view.getBigInt64(at, true).toString()],
    I32: [4, (at) => view.getInt32(at, true)],
    I16: [2, (at) => view.getInt16(at, true)],
    I8: [1, (at) => view.getInt8(at)],
    U8: [1, (at) => view.getUint8(at)],
    BOOL: [1, (at) => view.getUint8(at) !== 0],
  };
  const [size, element] = read[dtype]!;
  return Array.from({ length: bytes.byteLength / size }, (_, i) => element(i * size));
}

async function expectTorchValues(checkpoint: Checkpoint, want: ExpectedCheckpoint) {
  expect([...checkpoint.tensors.keys()]).toEqual(want.tensors.map((t) => t.name));
  for (const t of want.tensors) {
    const entry = checkpoint.tensors.get(tensorName(t.name))!;
    expect(entry).toMatchObject({ dtype: t.dtype, shape: t.shape });
    // toEqual tells −0 from 0 and matches NaN with NaN (as text here).
    expect(decode(await readTensor(entry), t.dtype)).toEqual(t.values);
  }
}

const opened: FileSource[] = [];
async function openFile(name: string): Promise<FileSource> {
  const source = await fileSource(fixturePath(name));
  opened.push(source);
  return source;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe.each(['dtypes.safetensors', 'tinynet.safetensors'])('%s, written by torch', (name) => {
  const want = expected[name]!;

  it('decodes exactly the values torch wrote, in data order, with its metadata', async () => {
    const checkpoint = await openSafetensors(await openFile(name));
    expect(Object.fromEntries(checkpoint.metadata)).toEqual(want.metadata);
    await expectTorchValues(checkpoint, want);
  });

  it('reads the same values back after our writer writes them out again', async () => {
    const checkpoint = await openSafetensors(await openFile(name));
    const tensors = await Promise.all(
      [...checkpoint.tensors.values()].map(async (t) => ({ ...t, bytes: await readTensor(t) })),
    );
    const sink = new MemorySink('rewritten.safetensors');
    await writeSafetensors(sink, tensors, checkpoint.metadata);
    await expectTorchValues(await openSafetensors(bytesSource(sink.bytes(), sink.name)), want);
  });
});

describe('a sharded checkpoint written like transformers does', () => {
  const indexName = 'sharded/model.safetensors.index.json';
  const want = expected[indexName]!;

  it('opens from paths on disk, shards matched by base name', async () => {
    const index = await openFile(indexName);
    const shards = await Promise.all(want.shards!.map((s) => openFile(`sharded/${s}`)));
    const checkpoint = await openShardedSafetensors(index, shards.toReversed());
    expect(checkpoint.files).toEqual([index.name, ...shards.map((s) => s.name)]);
    expect(Object.fromEntries(checkpoint.metadata)).toEqual({ total_size: '110', format: 'pt' });
    await expectTorchValues(checkpoint, want);
    expect(checkpoint.tensors.get(tensorName('head.bias'))?.file).toBe(shards[1]!.name);
  });

  it('opens from a Map keyed by file name, as the browser gives File.name', async () => {
    const index = await openFile(indexName);
    const shards = new Map<string, FileSource>();
    for (const s of want.shards!) shards.set(s, await openFile(`sharded/${s}`));
    await expectTorchValues(await openShardedSafetensors(index, shards), want);
  });
});
