// Plan: the product flow on tiny in-memory checkpoints — the checks refuse a task of another model
// (listing it for the studio, throwing a typed error naming the file for the CLI); the one writer
// writes one file or shards under the names the layout promises; the one summary gives the bundle's
// size as the bytes the bundle writer writes, and densities the masks agree with.
import { describe, expect, it } from 'vitest';
import { MemorySink } from '../formats/sink';
import { writeBundle } from '../merge/bundle';
import { CpuEngine } from '../merge/cpu/engine';
import { isEmr, runMerge } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { writePerTaskArtefact } from '../merge/pertask/artefact';
import { perTaskSpec } from '../merge/pertask/spec';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { checkedModelSet, checkTasks, TaskRefusedError } from './checks';
import { mergeSummary } from './summary';
import { taskLayout, writeTaskModel } from './write-task';

const weights = (file: string, seed: number) =>
  memoryCheckpoint(file, [
    {
      name: 'w',
      dtype: 'F32',
      shape: [8, 8],
      values: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * seed)),
    },
    { name: 'b', dtype: 'F32', shape: [8], values: Float32Array.from({ length: 8 }, (_, i) => i * seed) },
  ]);
const other = memoryCheckpoint('other.safetensors', [
  { name: 'encoder.x', dtype: 'F32', shape: [3], values: new Float32Array(3) },
]);

describe('src/flow', () => {
  it('refuses a task of another model: listed for the studio, a typed error naming the file for the CLI', () => {
    const base = weights('base.safetensors', 1);
    const tasks = [
      { name: 'a', checkpoint: weights('a.safetensors', 2) },
      { name: 'x', checkpoint: other },
    ];
    const { accepted, refused } = checkTasks(base, tasks);
    expect(accepted.map((t) => t.name)).toEqual(['a']);
    expect(refused).toEqual([
      expect.objectContaining({ index: 1, message: expect.stringContaining('Not a fine-tune of this base') }),
    ]);
    expect(() => checkedModelSet(base, tasks)).toThrow(TaskRefusedError);
    expect(() => checkedModelSet(base, tasks)).toThrow(/^other\.safetensors: Not a fine-tune of this base/);
  });

  it('writes a task as one file or as shards, under the names the layout gives, and summarizes the merge (shards at 100 bytes)', async () => {
    const base = weights('base.safetensors', 1);
    const set = checkedModelSet(base, [
      { name: 'a', checkpoint: weights('a.safetensors', 2) },
      { name: 'b', checkpoint: weights('b.safetensors', 3) },
    ]);
    const engine = new CpuEngine();
    const result = await runMerge(set, methodSpec('emr'), engine);
    const files = new Map<string, MemorySink>();
    const sinkFor = async (file: string) => {
      const sink = new MemorySink(file);
      files.set(file, sink);
      return sink;
    };
    const one = await writeTaskModel(result, 0, engine, { shardBytes: 1e9 }, sinkFor);
    expect(one).toMatchObject({ task: 'a', file: 'a.safetensors', unused: [] });
    expect(taskLayout(result, 1, 100)).toEqual({ format: 'safetensors', shards: 2 });
    const sharded = await writeTaskModel(result, 1, engine, { shardBytes: 100 }, sinkFor);
    expect(sharded.file).toBe('b.safetensors.index.json');
    expect([...files.keys()].sort()).toEqual([
      'a.safetensors',
      'b-00001-of-00002.safetensors',
      'b-00002-of-00002.safetensors',
      'b.safetensors.index.json',
    ]);
    const summary = await mergeSummary(result, {
      id: 7,
      engine: 'cpu',
      seconds: 0,
      source: 'merge',
      shardBytes: 100,
    });
    if (!isEmr(result)) throw new Error('an EMR result');
    const bundle = new MemorySink();
    await writeBundle(result, bundle);
    expect(summary.storage.bundleBytes).toBe(bundle.bytes().byteLength);
    expect(summary.tasks.map((t) => [t.name, t.files])).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    expect(summary.tasks[0]?.density).toBeCloseTo(result.tasks[0]?.density ?? NaN, 12);
    expect(summary.tensors.map((t) => t.name).sort()).toEqual(['b', 'w']);
  });

  it('gives a per-task method’s artefact size as its bundle bytes, as its writer counts it; the paper’s one-model methods none', async () => {
    const base = weights('base.safetensors', 1);
    const set = checkedModelSet(base, [
      { name: 'a', checkpoint: weights('a.safetensors', 2) },
      { name: 'b', checkpoint: weights('b.safetensors', 3) },
    ]);
    const engine = new CpuEngine();
    const ctx = { id: 1, engine: 'cpu', seconds: 0, source: 'merge' as const, shardBytes: 1e9 };
    // Consensus makes one model but stores it as its artefact too (one merged τ over the base).
    for (const method of ['tall_mask', 't_switch', 'consensus_ta'] as const) {
      const result = await runMerge(set, perTaskSpec(method), engine);
      const sink = new MemorySink('artefact.safetensors');
      await writePerTaskArtefact(result, sink);
      const summary = await mergeSummary(result, ctx);
      expect(summary.storage.bundleBytes).toBe(sink.bytes().byteLength);
      expect(summary.storage.bundleBytes).toBeGreaterThan(0);
      expect(summary.tasks.map((t) => t.perTask?.density)).toEqual([expect.any(Number), expect.any(Number)]);
    }
    const one = await mergeSummary(await runMerge(set, methodSpec('ta'), engine), ctx);
    expect(one.storage.bundleBytes).toBe(0);
  });

  it('gives TSV-C’s rank and energy kept per compressed tensor (Inspect’s table), none for the others', async () => {
    const base = weights('base.safetensors', 1);
    const set = checkedModelSet(base, [
      { name: 'a', checkpoint: weights('a.safetensors', 2) },
      { name: 'b', checkpoint: weights('b.safetensors', 3) },
    ]);
    const ctx = { id: 1, engine: 'cpu', seconds: 0, source: 'merge' as const, shardBytes: 1e9 };
    const summary = await mergeSummary(await runMerge(set, perTaskSpec('tsv_c'), new CpuEngine()), ctx);
    const byName = new Map(summary.tensors.map((t) => [t.name, t.lowRank] as const));
    // 8×8 over two tasks: int(8 · 1/2) = 4 components; 'b' (1-D) is kept whole, with no entry.
    expect(byName.get('w')?.rank).toBe(4);
    expect(byName.get('w')?.energy).toHaveLength(2);
    for (const e of byName.get('w')?.energy ?? []) expect(e > 0.5 && e <= 1, `energy ${e}`).toBe(true);
    expect(byName.get('b')).toBeUndefined();
    const other = await mergeSummary(await runMerge(set, perTaskSpec('tall_mask'), new CpuEngine()), ctx);
    expect(other.tensors.every((t) => t.lowRank === undefined)).toBe(true);
  });
});
