// Plan: an engine that overlaps calls (as the GPU engine does) gets two chunks in flight, and the
// merge is the same as with one at a time, whatever order the calls finish in: results are folded
// in chunk order, so λ's sums add in the same order. A failing call ends the merge with no call
// left running.
import { describe, expect, it } from 'vitest';
import { CpuEngine } from './cpu/engine';
import type { MergeEngine } from './engine';
import { runMerge, type EmrResult, type MergedResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet } from './model-set';
import { memoryCheckpoint } from './testing/memory-checkpoint';

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5,
  );
}

const set = () => {
  const model = (seed: number) =>
    memoryCheckpoint(`m${seed}`, [
      { name: 'a', dtype: 'F32', shape: [3000], values: values(3000, seed) },
      { name: 'b', dtype: 'F32', shape: [40, 50], values: values(2000, seed + 100) },
    ]);
  return buildModelSet(
    model(0),
    [1, 2, 3].map((s) => ({ name: `t${s}`, checkpoint: model(s) })),
  );
};

/** The CPU engine behind calls that finish in a scrambled order; counts how many run at once. */
function scrambled(): MergeEngine & { most: number; running: number } {
  const cpu = new CpuEngine();
  let call = 0;
  const engine = {
    most: 0,
    running: 0,
    overlap: true,
    kind: 'cpu' as const,
    description: 'scrambled',
    dispose: () => {},
  } as MergeEngine & { most: number; running: number };
  for (const m of ['emr', 'emrReconstruct', 'average', 'taskArithmetic', 'absHistogram', 'ties'] as const) {
    (engine as unknown as Record<string, unknown>)[m] = async (...args: unknown[]) => {
      engine.running++;
      engine.most = Math.max(engine.most, engine.running);
      // Every other call waits longer, so calls finish out of order.
      await new Promise((r) => setTimeout(r, (call++ % 2) * 5));
      try {
        return await (cpu[m] as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        engine.running--;
      }
    };
  }
  return engine;
}

describe('an engine that overlaps calls', () => {
  it('gets two chunks in flight and the same merge, for every method', async () => {
    const budgetBytes = 3 * 4 * 4 * 512; // chunks of a few hundred elements: many of them
    for (const method of ['emr', 'avg', 'ta', 'ties'] as const) {
      const engine = scrambled();
      const overlapped = await runMerge(set(), methodSpec(method), engine, { budgetBytes });
      const plain = await runMerge(set(), methodSpec(method), new CpuEngine(), { budgetBytes });
      expect(engine.most, method).toBe(2);
      if (method === 'emr') {
        const [o, p] = [overlapped as EmrResult, plain as EmrResult];
        expect(o.lambdas).toEqual(p.lambdas);
        expect([...o.tauUni.values()]).toEqual([...p.tauUni.values()]);
        expect([...o.masks.values()]).toEqual([...p.masks.values()]);
      } else
        expect([...(overlapped as MergedResult).merged.values()]).toEqual([
          ...(plain as MergedResult).merged.values(),
        ]);
    }
  });

  it('ends on a failing call with no call left running', async () => {
    const engine = scrambled();
    let calls = 0;
    const emr = engine.emr.bind(engine);
    engine.emr = async (chunk) => {
      if (++calls === 3) throw new Error('device lost');
      return emr(chunk);
    };
    await expect(
      runMerge(set(), methodSpec('emr'), engine, { budgetBytes: 3 * 4 * 4 * 512 }),
    ).rejects.toThrow('device lost');
    expect(engine.running).toBe(0); // the call in flight beside the failing one was awaited
  });
});
