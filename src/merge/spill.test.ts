// Plan: a merge whose τ_uni and masks spill to a scratch file gives the same λ, task models and
// bundle, byte for byte, as one that keeps them in memory (chunked many times per tensor, f32 and
// bf16, several tensors), holds nothing whole in memory, and deletes the file when released; a
// failed or cancelled merge deletes it at once; the spill threshold is honoured either side.
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { bytesSource } from '../formats/source';
import { tensorName } from '../formats/tensor';
import { openBundle, writeBundle } from './bundle';
import { CpuEngine } from './cpu/engine';
import { spillLayout, type ScratchFile } from './emr-values';
import { runMerge, type EmrResult, type MergeOptions } from './merge';
import { methodSpec } from './methods';
import { buildModelSet, type ModelSet } from './model-set';
import { collectBytes, taskModel } from './task-model';
import { memoryCheckpoint, type MemoryTensor } from './testing/memory-checkpoint';

const engine = new CpuEngine();

/** A scratch file in memory that records what happens to it. */
class MemoryScratch implements ScratchFile {
  readonly name = 'scratch.bin';
  bytes: Uint8Array;
  removed = false;
  writes = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  async write(offset: number, data: Uint8Array) {
    if (this.removed) throw new Error('write after remove');
    if (offset + data.byteLength > this.bytes.byteLength) throw new Error('write past the layout');
    this.bytes.set(data, offset);
    this.writes++;
  }
  async read(offset: number, length: number) {
    if (this.removed) throw new Error('read after remove');
    return this.bytes.slice(offset, offset + length);
  }
  async remove() {
    this.removed = true;
  }
}

function set(numTasks: number, dtype: 'F32' | 'BF16'): ModelSet {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const shapes: [string, number[]][] = [
    ['a.w', [37, 29]], // 1073 elements: not a multiple of 32
    ['b.w', [300]],
    ['c.b', [5]],
  ];
  const base: MemoryTensor[] = shapes.map(([name, shape]) => ({
    name,
    dtype,
    shape,
    values: Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, rnd),
  }));
  const tasks = Array.from({ length: numTasks }, (_, t) => ({
    name: `t${t}`,
    checkpoint: memoryCheckpoint(`t${t}.safetensors`, [
      ...base.map((b) => ({ ...b, values: b.values.map((x) => x + rnd() * 0.05) })),
      { name: 'head', dtype: 'F32' as const, shape: [t + 1], values: new Float32Array(t + 1).fill(t) },
    ]),
  }));
  return buildModelSet(memoryCheckpoint('base.safetensors', base), tasks);
}

async function models(result: EmrResult): Promise<number[][][]> {
  return Promise.all(
    result.set.tasks.map((_, t) =>
      Promise.all(taskModel(result, t, engine, 4096).map(async (x) => Array.from(await collectBytes(x)))),
    ),
  );
}

async function bundleBytes(result: EmrResult): Promise<Uint8Array> {
  const sink = new MemorySink('bundle.safetensors');
  await writeBundle(result, sink);
  return sink.bytes();
}

describe('EMR values spilled to a scratch file', () => {
  for (const dtype of ['F32', 'BF16'] as const)
    it(`give the same λ, task models and bundle as in memory (${dtype}, 64-element chunks)`, async () => {
      const s = set(3, dtype);
      const options: MergeOptions = { budgetBytes: 64 * 3 * 40 }; // a few dozen chunks
      const kept = (await runMerge(s, methodSpec('emr'), engine, options)) as EmrResult;
      let scratch: MemoryScratch | undefined;
      const spilled = (await runMerge(s, methodSpec('emr'), engine, {
        ...options,
        spill: { overBytes: 0, open: async (bytes) => (scratch = new MemoryScratch(bytes)) },
      })) as EmrResult;
      expect(kept.values.location).toBe('memory');
      expect(spilled.values.location).toBe('spill');
      expect(spilled.tauUni.size).toBe(0); // nothing held whole
      expect(spilled.masks.size).toBe(0);
      expect(scratch?.bytes.byteLength).toBe(spillLayout(s.shared, 3).bytes);
      expect(scratch?.writes).toBeGreaterThan(s.shared.length * 4);
      expect(spilled.lambdas).toEqual(kept.lambdas);
      expect(spilled.tasks).toEqual(kept.tasks);
      expect(await models(spilled)).toEqual(await models(kept));
      expect(await bundleBytes(spilled)).toEqual(await bundleBytes(kept));
      await spilled.values.release();
      expect(scratch?.removed).toBe(true);
      await expect(spilled.values.tau(tensorName('a.w'), 0, 1)).rejects.toThrow(/released/);
    });

  it('stays in memory at or under the threshold and spills just over it', async () => {
    const s = set(2, 'F32');
    const size = spillLayout(s.shared, 2).bytes;
    const opened: number[] = [];
    const open = async (bytes: number) => (opened.push(bytes), new MemoryScratch(bytes));
    const under = (await runMerge(s, methodSpec('emr'), engine, {
      spill: { overBytes: size, open },
    })) as EmrResult;
    expect(under.values.location).toBe('memory');
    expect(opened).toEqual([]);
    const over = (await runMerge(s, methodSpec('emr'), engine, {
      spill: { overBytes: size - 1, open },
    })) as EmrResult;
    expect(over.values.location).toBe('spill');
    expect(opened).toEqual([size]);
  });

  it('deletes the scratch file when the merge fails or is cancelled', async () => {
    const s = set(2, 'F32');
    let scratch: MemoryScratch | undefined;
    const controller = new AbortController();
    const merging = runMerge(s, methodSpec('emr'), engine, {
      budgetBytes: 64 * 2 * 40,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytesDone > 0) controller.abort();
      },
      spill: { overBytes: 0, open: async (bytes) => (scratch = new MemoryScratch(bytes)) },
    });
    await expect(merging).rejects.toThrow();
    expect(scratch?.removed).toBe(true);

    let failing: MemoryScratch | undefined;
    const broken = runMerge(s, methodSpec('emr'), engine, {
      spill: {
        overBytes: 0,
        open: async (bytes) => {
          failing = new MemoryScratch(bytes);
          failing.write = async () => {
            throw new Error('disk full');
          };
          return failing;
        },
      },
    });
    await expect(broken).rejects.toThrow('disk full');
    expect(failing?.removed).toBe(true);
  });

  it('a bundle opened from a file is read by range, and rebuilds the tasks as the merge did', async () => {
    const s = set(3, 'BF16');
    const kept = (await runMerge(s, methodSpec('emr'), engine)) as EmrResult;
    const bundle = await openSafetensors(bytesSource(await bundleBytes(kept), 'bundle.safetensors'));
    const reopened = await openBundle(bundle, memoryCheckpointOf(s));
    expect(reopened.values.location).toBe('bundle');
    expect(reopened.tauUni.size).toBe(0);
    expect(await models(reopened)).toEqual(await models(kept));
  });
});

/** The set's base as a checkpoint again (openBundle checks it against the bundle). */
function memoryCheckpointOf(s: ModelSet) {
  return {
    format: 'safetensors' as const,
    files: ['base.safetensors'],
    tensors: new Map(s.shared.map((x) => [x.name, x.base] as const)),
    metadata: new Map<string, string>(),
  };
}
