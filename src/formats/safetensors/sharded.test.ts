// Plan: a sharded checkpoint opens as one Checkpoint when the index and the shards agree: shards
// given as paths, File names, a list or a Map, in any order, with other files beside them; only
// headers are read. Each disagreement has its own case and error code (bad-index, missing-file,
// duplicate-name), as does each way the index itself can be malformed; a damaged shard reports
// its own error, the first one in shard order.
import { describe, expect, it } from 'vitest';
import { MemorySink } from '../sink';
import { bytesSource, type ByteSource } from '../source';
import { readTensor, tensorName } from '../tensor';
import { MAX_HEADER_BYTES } from './header';
import { openShardedSafetensors } from './sharded';
import { expectFormatError, loggingSource } from './testing';
import { writeSafetensors, type TensorWithBytes } from './writer';

const INDEX = 'model.safetensors.index.json';
const SHARD1 = 'model-00001-of-00002.safetensors';
const SHARD2 = 'model-00002-of-00002.safetensors';

const u8 = (name: string, ...values: number[]): TensorWithBytes => ({
  name,
  dtype: 'U8',
  shape: [values.length],
  bytes: Uint8Array.from(values),
});

async function shardBytes(tensors: TensorWithBytes[]): Promise<Uint8Array<ArrayBuffer>> {
  const sink = new MemorySink();
  await writeSafetensors(sink, tensors, { format: 'pt' });
  return sink.bytes();
}

async function shard(name: string, tensors: TensorWithBytes[]): Promise<ByteSource> {
  return bytesSource(await shardBytes(tensors), name);
}

function indexSource(text: string): ByteSource {
  return bytesSource(new TextEncoder().encode(text), INDEX);
}

function index(weightMap: Record<string, string>, metadata: unknown = { total_size: 5 }): ByteSource {
  return indexSource(JSON.stringify({ metadata, weight_map: weightMap }, null, 2));
}

/** The usual pair: a, b in the first shard, c in the second. */
const standardMap = { a: SHARD1, b: SHARD1, c: SHARD2 };
const standardShards = async (dir = '') => [
  await shard(`${dir}${SHARD1}`, [u8('b', 1, 2), u8('a', 3)]),
  await shard(`${dir}${SHARD2}`, [u8('c', 4, 5)]),
];

describe('openShardedSafetensors on agreeing files', () => {
  it('lists the index then the shards by file name, tensors shard by shard in data order', async () => {
    const [first, second] = await standardShards('/models/x/');
    const checkpoint = await openShardedSafetensors(index(standardMap), [second!, first!]);
    expect(checkpoint.format).toBe('safetensors');
    expect(checkpoint.files).toEqual([INDEX, `/models/x/${SHARD1}`, `/models/x/${SHARD2}`]);
    expect([...checkpoint.tensors.keys()]).toEqual(['b', 'a', 'c']);
    expect([...(await readTensor(checkpoint.tensors.get(tensorName('c'))!))]).toEqual([4, 5]);
    expect(checkpoint.tensors.get(tensorName('a'))?.file).toBe(`/models/x/${SHARD1}`);
  });

  it('matches Windows paths, Map keys and weight_map entries with folders by base name', async () => {
    const [first, second] = await standardShards();
    const shards = new Map([
      [`C:\\models\\${SHARD1}`, first!],
      [`uploads/${SHARD2}`, second!],
    ]);
    const map = { a: SHARD1, b: `./${SHARD1}`, c: `sub/${SHARD2}` };
    expect([...(await openShardedSafetensors(index(map), shards)).tensors.keys()]).toEqual(['b', 'a', 'c']);
  });

  it('leaves alone files the index does not name', async () => {
    const other = bytesSource(new Uint8Array([1, 2, 3]), 'README.md');
    const checkpoint = await openShardedSafetensors(index(standardMap), [...(await standardShards()), other]);
    expect(checkpoint.files).not.toContain('README.md');
  });

  it('reads only the headers of the shards', async () => {
    const sources = [
      loggingSource(await shardBytes([u8('b', 1, 2), u8('a', 3)]), SHARD1),
      loggingSource(await shardBytes([u8('c', 4, 5)]), SHARD2),
    ];
    await openShardedSafetensors(index(standardMap), sources);
    for (const source of sources) {
      expect(source.reads).toEqual([
        [0, 8],
        [8, expect.any(Number)],
      ]);
      expect(8 + source.reads[1]![1]).toBeLessThan(source.size);
    }
  });

  it('gives the index metadata as text, then shard metadata it lacks', async () => {
    const checkpoint = await openShardedSafetensors(
      index(standardMap, { total_size: 5, format: 'index', nested: { a: [1] } }),
      await standardShards(),
    );
    expect([...checkpoint.metadata]).toEqual([
      ['total_size', '5'],
      ['format', 'index'],
      ['nested', '{"a":[1]}'],
    ]);
  });

  it('accepts an index without metadata, or with null metadata', async () => {
    const noMetadata = indexSource(JSON.stringify({ weight_map: standardMap }));
    expect((await openShardedSafetensors(noMetadata, await standardShards())).metadata).toEqual(
      new Map([['format', 'pt']]),
    );
    await openShardedSafetensors(index(standardMap, null), await standardShards());
  });

  it('opens a single shard with all the tensors', async () => {
    const only = await shard(SHARD1, [u8('x', 1)]);
    expect((await openShardedSafetensors(index({ x: SHARD1 }), [only])).tensors.size).toBe(1);
  });
});

describe('openShardedSafetensors refuses', () => {
  it('a shard the index names but that was not given (missing-file, naming it)', async () => {
    const [first] = await standardShards();
    const error = await expectFormatError(
      openShardedSafetensors(index(standardMap), [first!]),
      'missing-file',
      SHARD2,
    );
    expect(error.problem).toBe(`this shard is named in ${INDEX} but was not given`);
  });

  it('several missing shards, naming them all (missing-file)', async () => {
    const map = { a: 'm-1.safetensors', b: 'm-2.safetensors', c: 'm-3.safetensors' };
    const error = await expectFormatError(
      openShardedSafetensors(index(map), []),
      'missing-file',
      'm-1.safetensors',
    );
    expect(error.problem).toContain('also missing: m-2.safetensors, m-3.safetensors');
  });

  it('two given shards with the same file name (duplicate-name)', async () => {
    const [first, second] = await standardShards();
    const again = await shard(`other/${SHARD1}`, [u8('a', 3)]);
    await expectFormatError(
      openShardedSafetensors(index(standardMap), [first!, second!, again]),
      'duplicate-name',
      SHARD1,
    );
  });

  it('a weight_map tensor that its shard lacks (bad-index)', async () => {
    const error = await expectFormatError(
      openShardedSafetensors(index({ ...standardMap, d: SHARD2 }), await standardShards()),
      'bad-index',
      INDEX,
    );
    expect(error.problem).toBe(`weight_map puts tensor "d" in ${SHARD2}, which has no such tensor`);
  });

  it('a weight_map tensor that is in another shard (bad-index)', async () => {
    const error = await expectFormatError(
      openShardedSafetensors(index({ ...standardMap, a: SHARD2 }), await standardShards()),
      'bad-index',
      INDEX,
    );
    expect(error.problem).toBe(`weight_map puts tensor "a" in ${SHARD2}, but it is in ${SHARD1}`);
  });

  it('a shard tensor missing from weight_map (bad-index)', async () => {
    const error = await expectFormatError(
      openShardedSafetensors(index({ a: SHARD1, c: SHARD2 }), await standardShards()),
      'bad-index',
      INDEX,
    );
    expect(error.problem).toBe(`tensor "b" of ${SHARD1} is missing from weight_map`);
  });

  it('a tensor in two shards (duplicate-name)', async () => {
    const shards = [
      await shard(SHARD1, [u8('a', 1), u8('b', 2)]),
      await shard(SHARD2, [u8('c', 3), u8('a', 1)]),
    ];
    const error = await expectFormatError(
      openShardedSafetensors(index(standardMap), shards),
      'duplicate-name',
      SHARD2,
    );
    expect(error.problem).toBe(`tensor "a" is in both ${SHARD1} and ${SHARD2}`);
  });

  it('a tensor listed twice in weight_map, which JSON.parse would hide (duplicate-name)', async () => {
    const text = `{"weight_map":{"a":"${SHARD1}","b":"${SHARD1}","c":"${SHARD2}","a":"${SHARD2}"}}`;
    const error = await expectFormatError(
      openShardedSafetensors(indexSource(text), await standardShards()),
      'duplicate-name',
      INDEX,
    );
    expect(error.problem).toBe('weight_map lists tensor "a" twice');
  });

  it('a damaged shard, with its own error; the first in shard order when several are', async () => {
    const [first, second] = await standardShards();
    const cut = (s: ByteSource) => bytesSource(new Uint8Array(4), s.name);
    await expectFormatError(
      openShardedSafetensors(index(standardMap), [first!, cut(second!)]),
      'truncated',
      SHARD2,
    );
    await expectFormatError(
      openShardedSafetensors(index(standardMap), [cut(second!), cut(first!)]),
      'truncated',
      SHARD1,
    );
  });

  it.each([
    ['not JSON', '{"weight_map":'],
    ['an array', '[]'],
    ['without weight_map', '{"metadata":{}}'],
    ['with a weight_map that is an array', '{"weight_map":["a"]}'],
    ['with a shard that is not a string', '{"weight_map":{"a":1}}'],
    ['with metadata that is a string', '{"metadata":"x","weight_map":{}}'],
    ['with a key given twice at the top', '{"weight_map":{},"weight_map":{}}'],
    ['with a metadata key given twice', '{"metadata":{"a":1,"a":2},"weight_map":{}}'],
  ])('an index %s (bad-index)', async (_, text) => {
    await expectFormatError(openShardedSafetensors(indexSource(text), []), 'bad-index', INDEX);
  });

  it('an index that is not UTF-8 (bad-index)', async () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0x7d]);
    await expectFormatError(openShardedSafetensors(bytesSource(bytes, INDEX), []), 'bad-index', INDEX);
  });

  it('an index metadata value nested deeper than JSON.stringify can go (bad-index)', async () => {
    const depth = 100_000;
    const text = `{"metadata":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}},"weight_map":{}}`;
    await expectFormatError(openShardedSafetensors(indexSource(text), []), 'bad-index', INDEX);
  });

  it('an index over the 100 MB cap, without reading it (bad-index)', async () => {
    const reads: number[] = [];
    const huge: ByteSource = {
      name: INDEX,
      size: MAX_HEADER_BYTES + 1,
      async read(offset) {
        reads.push(offset);
        return new Uint8Array(0);
      },
    };
    await expectFormatError(openShardedSafetensors(huge, []), 'bad-index', INDEX);
    expect(reads).toEqual([]);
  });
});
