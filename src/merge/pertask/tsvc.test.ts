// Plan: TSV-C's rules that the torch fixtures (./tsvc-fixtures.test.ts) do not pin: the rank as
// compute_svd_and_compress computes it in Python (int(s.shape[0] * sv_reduction), a float64 product
// truncated); NaN in a 2-D weight refused by name, as torch.linalg.svd refuses it, while a non-2-D
// tensor's own τ carries it through; the energy kept (1 at full rank); and a task's `density`, the
// values it stores over the shared parameters.
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { makeSet, randomLayers } from '../testing/engine-suite';
import { collectBytes, taskModel } from '../task-model';
import { tsvcRank } from './lowrank';
import { isPerTaskResult } from './result';
import { perTaskSpec } from './spec';

const engine = new CpuEngine();

describe('TSV-C', () => {
  it('keeps int(min(m, n) · sv_reduction) components, as Python computes it', () => {
    expect(tsvcRank(768, 768, 1 / 8)).toBe(96);
    expect(tsvcRank(3072, 768, 1 / 8)).toBe(96);
    expect(tsvcRank(3, 11, 1 / 3)).toBe(1); // 3 · (1/3) rounds to 1.0 in float64
    expect(tsvcRank(100, 50, 1 / 3)).toBe(16);
    expect(tsvcRank(1, 9, 1 / 3)).toBe(0);
    expect(tsvcRank(10, 10, 0.29)).toBe(2); // 10 · 0.29 = 2.9
    expect(tsvcRank(100, 100, 0.29)).toBe(28); // 100 · 0.29 = 28.999999999999996
  });

  it('refuses NaN in a 2-D weight by name; a 1-D tensor keeps its own τ, NaN included', async () => {
    const layers = randomLayers(3, 2, [[6, 4], [5]]);
    const bad = layers.map((l) => ({ ...l, tasks: l.tasks.map((t) => t.slice()) }));
    (bad[0]?.tasks[1] as Float32Array)[3] = Number.NaN;
    await expect(runMerge(makeSet(bad, 2), perTaskSpec('tsv_c'), engine)).rejects.toThrow(
      /layers\.0\.weight: NaN or ±∞ in its weights \(task "task1"\); tsv_c's SVD/,
    );
    const ok = layers.map((l) => ({ ...l, tasks: l.tasks.map((t) => t.slice()) }));
    (ok[1]?.tasks[0] as Float32Array)[2] = Number.NaN;
    const result = await runMerge(makeSet(ok, 2), perTaskSpec('tsv_c'), engine);
    const bias = taskModel(result, 0, engine).find((x) => x.name === 'layers.1.weight');
    const values = new Float32Array((await collectBytes(bias as never)).slice().buffer);
    expect(Number.isNaN(values[2])).toBe(true);
    expect(result.nonFinite?.tasks).toEqual([1, 0]);
  });

  it('reports the energy kept and the values stored per task', async () => {
    const layers = randomLayers(5, 4, [[12, 8], [30]]);
    const set = makeSet(layers, 4);
    const full = await runMerge(set, perTaskSpec('tsv_c', { sv_reduction: 1 }), engine);
    const quarter = await runMerge(set, perTaskSpec('tsv_c'), engine);
    if (!isPerTaskResult(full) || full.modulator.kind !== 'lowrank') throw new Error('not TSV-C');
    if (!isPerTaskResult(quarter) || quarter.modulator.kind !== 'lowrank') throw new Error('not TSV-C');
    const energy = (r: typeof full) =>
      (r.modulator.kind === 'lowrank' ? r.modulator.factors.get('layers.0.weight' as never) : undefined)
        ?.energy as number[];
    for (const e of energy(full)) expect(e).toBeCloseTo(1, 12);
    for (const e of energy(quarter)) expect(e > 0.2 && e < 1).toBe(true);
    // k = int(8 · 1/4) = 2: 2 · (12 + 8 + 1) values, and the 30 of the bias, over 126 parameters.
    expect(quarter.tasks.map((t) => t.density)).toEqual(new Array(4).fill((2 * 21 + 30) / 126));
    expect(full.tasks[0]?.density).toBe((8 * 21 + 30) / 126);
  });
});
