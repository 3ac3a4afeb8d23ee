// Plan: the mask viewer reads every mask method through one source — EMR's values, TALL masks' and
// Consensus's packed masks with τ_MTL, T-Switch's keep and sign bits — and the images it draws from
// a merge of a tiny hand-made set (base 0, small integers: every comparison exact) are the masks
// worked out by hand; the methods with no mask (TSV-C, Task Arithmetic) have no source.
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../../src/merge/cpu/engine';
import { isEmr, runMerge } from '../../src/merge/merge';
import { methodSpec } from '../../src/merge/methods';
import { perTaskSpec, type PerTaskMethod } from '../../src/merge/pertask/spec';
import { makeSet, type Layer } from '../../src/merge/testing/engine-suite';
import { maskSourceOf } from './inspect';
import { maskImage } from './mask-image';
import type { ViewMode } from './protocol';

const engine = new CpuEngine();
// τ = the task's values (the base is 0); as in src/flow/summary-masks.test.ts.
const HAND: Layer[] = [
  {
    name: 'w',
    shape: [2, 4],
    base: new Float32Array(8),
    tasks: [Float32Array.of(1, 0, 2, -1, 3, 0, 0, 1), Float32Array.of(1, 1, -2, 0, 0, 0, 2, 1)],
  },
];

async function images(method: PerTaskMethod, params: Record<string, unknown>) {
  const result = await runMerge(makeSet(HAND, 2), perTaskSpec(method, params), engine);
  const src = maskSourceOf(result, 'w');
  if (!src) throw new Error(`no mask source for ${method}`);
  expect(maskSourceOf(result, 'absent')).toBeUndefined();
  return async (mode: ViewMode, task: number, otherTask = task) => [
    ...(await maskImage(src, mode, task, 100, otherTask)).values,
  ];
}

describe('maskSourceOf', () => {
  it('TALL masks (λ = [0.5, 1]): each task’s own mask; sign is τ_MTL’s', async () => {
    const image = await images('tall_mask', { lambda: [0.5, 1] });
    // task 0: |τ₀| > 0.5·|τ₁|; task 1: |τ₁| > |τ₀|; τ_MTL = τ₀ + τ₁ = [2, 1, 0, −1, 3, 0, 2, 2]
    expect(await image('mask', 0)).toEqual([1, 0, 1, 1, 1, 0, 0, 1]);
    expect(await image('other-mask', 0, 1)).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    expect(await image('agreement', 0)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.5, 0.5]);
    expect(await image('sign', 1)).toEqual([1, 1, 0, -1, 1, 0, 1, 1]);
  });

  it('Consensus (k = 2, λ = 0.5): the one mask both tasks’ TALL masks keep, for each task', async () => {
    const image = await images('consensus_ta', { k: 2, tall_lambda: 0.5 });
    for (const t of [0, 1]) expect(await image('mask', t)).toEqual([1, 0, 1, 0, 0, 0, 0, 1]);
    expect(await image('agreement', 0)).toEqual([1, 0, 1, 0, 0, 0, 0, 1]);
    expect(await image('sign', 0)).toEqual([1, 1, 0, -1, 1, 0, 1, 1]);
  });

  it('T-Switch (drop ratio 0.5): keep bits, and for sign the task’s own sign bits where kept', async () => {
    const image = await images('t_switch', { drop_ratio: 0.5 });
    // task 0 keeps its top 2 of 4 positives (2, 3) and its one negative; task 1 all (ties at 1)
    expect(await image('mask', 0)).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
    expect(await image('sign', 0)).toEqual([0, 0, 1, -1, 1, 0, 0, 0]);
    expect(await image('mask', 1)).toEqual([1, 1, 1, 0, 0, 0, 1, 1]);
    expect(await image('sign', 1)).toEqual([1, 1, -1, 0, 0, 0, 1, 1]);
  });

  it('reads EMR’s τ_uni and masks by range; a method with no mask has no source', async () => {
    const set = makeSet(HAND, 2);
    const emr = await runMerge(set, methodSpec('emr'), engine);
    if (!isEmr(emr)) throw new Error('an EMR result');
    const src = maskSourceOf(emr, 'w');
    const w = set.shared[0]?.name;
    if (!src || !w) throw new Error('no EMR source');
    for (const t of [0, 1]) {
      const [word] = await emr.values.mask(w, t, 0, 1);
      const bits = Array.from({ length: 8 }, (_, i) => ((word as number) >>> i) & 1);
      expect([...(await maskImage(src, 'mask', t, 100)).values]).toEqual(bits);
    }
    const tau = [...(await emr.values.tau(w, 0, 8))].map((x) => Math.sign(x) + 0);
    expect([...(await maskImage(src, 'sign', 1, 100)).values]).toEqual(tau);
    expect(maskSourceOf(await runMerge(set, perTaskSpec('tsv_c'), engine), 'w')).toBeUndefined();
    expect(maskSourceOf(await runMerge(set, methodSpec('ta'), engine), 'w')).toBeUndefined();
  });
});
