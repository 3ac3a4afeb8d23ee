// Plan: a GPU device lost in the middle of a merge (destroyed after some chunks are done) does
// not lose the merge: it finishes on the CPU engine from the chunk that failed, with the same masks
// and τ_uni as a CPU merge, and the engine says it fell back and why. Every method.
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import { FallbackEngine } from '../merge/fallback';
import { runMerge, type EmrResult, type MergedResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { acquireGpu } from './device';
import { GpuEngine } from './engine';

function set() {
  const values = (n: number, seed: number, scale: number) => {
    let s = seed;
    return Float32Array.from(
      { length: n },
      () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
    );
  };
  const shapes = [[64, 40], [3000], [31]];
  const base = memoryCheckpoint(
    'base',
    shapes.map((shape, i) => ({
      name: `w${i}`,
      dtype: 'F32' as const,
      shape,
      values: values(
        shape.reduce((a, b) => a * b, 1),
        i + 1,
        1,
      ),
    })),
  );
  const tasks = [1, 2, 3].map((t) => ({
    name: `t${t}`,
    checkpoint: memoryCheckpoint(
      `t${t}`,
      shapes.map((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const b = values(n, i + 1, 1);
        const d = values(n, 50 * t + i, 0.02);
        return { name: `w${i}`, dtype: 'F32' as const, shape, values: b.map((x, k) => x + (d[k] as number)) };
      }),
    ),
  }));
  return buildModelSet(base, tasks);
}

describe('device lost mid-merge', () => {
  for (const method of ['emr', 'ties', 'avg'] as const) {
    it(`${method}: finishes on the CPU with the CPU's result, and says so`, async () => {
      const s = set();
      const gpu = await acquireGpu(); // a device of its own, to lose
      const notices: string[] = [];
      const engine = new FallbackEngine(
        new GpuEngine(gpu, true),
        () => new CpuEngine(),
        (why) => notices.push(why),
      );
      let chunks = 0;
      const opts = { budgetBytes: 16 * 1024 };
      const got = await runMerge(s, methodSpec(method), engine, {
        ...opts,
        onProgress: () => {
          if (++chunks === 3) gpu.device.destroy(); // the GPU goes away after three chunks
        },
      });
      const want = await runMerge(s, methodSpec(method), new CpuEngine(), opts);
      expect(engine.fellBack).toBeDefined();
      expect(notices).toHaveLength(1);
      expect(engine.kind).toBe('cpu');
      expect(engine.description).toMatch(/^CPU .*after GPU: .* failed/);
      for (const t of s.shared) {
        if (method === 'emr') {
          expect((got as EmrResult).masks.get(t.name)).toEqual((want as EmrResult).masks.get(t.name));
          expect((got as EmrResult).tauUni.get(t.name)).toEqual((want as EmrResult).tauUni.get(t.name));
        } else {
          expect((got as MergedResult).merged.get(t.name)).toEqual((want as MergedResult).merged.get(t.name));
        }
      }
      engine.dispose();
    });
  }
});
