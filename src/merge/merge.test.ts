// Plan: hand-checked cases pin the rest of the semantics in docs/architecture.md#emr-semantics
// (conflicts, λ as a ratio of sums of per-tensor means, λ = 1 when the denominator is 0, heads
// passing through); property tests hold the invariants on random sets; model set refusals and
// method parameters. The streaming merge against the whole-tensor reference, and EMR's ties and
// zeros, are in the engine suite (./testing/engine-suite, run for every engine by
// ./engine-suite.test.ts and the GPU's tests).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensorName } from '../formats/tensor';
import { CpuEngine } from './cpu/engine';
import { maskWords } from './cpu/kernels';
import { isEmr, runMerge, type EmrResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet } from './model-set';
import { collectBytes, taskModel } from './task-model';
import { makeSet, randomLayers, unpackMask, type Layer } from './testing/engine-suite';
import { memoryCheckpoint, type MemoryTensor } from './testing/memory-checkpoint';

const engine = new CpuEngine();

describe('EMR semantics, hand-checked', () => {
  it('a zero τ is not a disagreeing sign: conflicts need one task above and one below zero', async () => {
    // element 0: τ = (−1, 0) → s = −1, no conflict; element 1: τ = (−1, +0.5) → conflict
    const layers: Layer[] = [
      {
        name: 'w',
        shape: [2],
        base: new Float32Array(2),
        tasks: [new Float32Array([-1, -1]), new Float32Array([0, 0.5])],
      },
    ];
    const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    expect(r.tensors[0]?.conflicts).toBe(1);
  });

  it('λ is a ratio of sums of per-tensor means, not one global mean', async () => {
    // Tensor a (2 elements): τ_0 = (1, 0), τ_1 = (1, 0) → τ_uni = (1, 0), both masks (1, 0).
    // Tensor b (4 elements): τ_0 = (2, 2, 2, 2), τ_1 = (−1, −1, −1, −1) → mean 0.5 → s = +1, ε = 2.
    const layers: Layer[] = [
      {
        name: 'a',
        shape: [2],
        base: new Float32Array(2),
        tasks: [new Float32Array([1, 0]), new Float32Array([1, 0])],
      },
      {
        name: 'b',
        shape: [4],
        base: new Float32Array(4),
        tasks: [new Float32Array(4).fill(2), new Float32Array(4).fill(-1)],
      },
    ];
    const per = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    // task 0: (0.5 + 2) / (0.5 + 2) = 1; task 1: (0.5 + 1) / (0.5 + 0) = 3
    expect(per.lambdas[0]).toBeCloseTo(1, 12);
    expect(per.lambdas[1]).toBeCloseTo(3, 12);
    expect(per.tasks[1]?.numerator).toBeCloseTo(1.5, 12);
    const global = (await runMerge(
      makeSet(layers, 2),
      methodSpec('emr', { rescale: 'global' }),
      engine,
    )) as EmrResult;
    // task 1 global: Σ|τ| = 1 + 4 = 5 over Σ|M⊙τ_uni| = 1 → 5
    expect(global.lambdas[1]).toBeCloseTo(5, 12);
  });

  it('λ = 1 and says so when no mask bit is on', async () => {
    // τ_0 = −1 everywhere, τ_1 = +3 everywhere: s = +1, task 0 never agrees.
    const layers: Layer[] = [
      {
        name: 'w',
        shape: [3],
        base: new Float32Array(3),
        tasks: [new Float32Array(3).fill(-1), new Float32Array(3).fill(3)],
      },
    ];
    const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    expect(r.lambdas[0]).toBe(1);
    expect(r.tasks[0]?.lambdaDefaulted).toBe(true);
    expect(r.tasks[1]?.lambdaDefaulted).toBe(false);
  });

  it('heads of different shape per task pass through from their task', async () => {
    const layers = randomLayers(3, 3, [[5, 7]]);
    const set = makeSet(layers, 3, { heads: true });
    expect(set.report.leftOut.map((l) => [l.name, l.reason])).toEqual([['head.weight', 'shape-mismatch']]);
    const r = await runMerge(set, methodSpec('emr'), engine);
    const model = taskModel(r, 2, engine);
    expect(model.map((t) => t.name)).toEqual(['layers.0.weight', 'head.weight']);
    const head = model[1];
    expect(head?.shape).toEqual([4, 3]);
    expect(
      Array.from(new Float32Array((await collectBytes(head as NonNullable<typeof head>)).buffer)),
    ).toEqual(new Array(12).fill(2));
  });
});

describe('invariants (property-based)', () => {
  const layerArb = fc.record({
    numTasks: fc.integer({ min: 2, max: 6 }),
    numel: fc.integer({ min: 1, max: 80 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });

  it('masks only where the task agrees with the elected sign; |τ_uni| ≥ |M_t ⊙ τ_t|', async () => {
    await fc.assert(
      fc.asyncProperty(layerArb, async ({ numTasks, numel, seed }) => {
        const layers = randomLayers(seed, numTasks, [[numel]]);
        const r = (await runMerge(makeSet(layers, numTasks), methodSpec('emr'), engine, {
          budgetBytes: 1,
        })) as EmrResult;
        const uni = r.tauUni.get(tensorName(layers[0]?.name as string)) as Float32Array;
        const masks = r.masks.get(tensorName(layers[0]?.name as string)) as Uint32Array;
        const l = layers[0] as Layer;
        for (let t = 0; t < numTasks; t++) {
          const m = unpackMask(masks, t * maskWords(numel), numel);
          for (let i = 0; i < numel; i++) {
            const tau = Math.fround((l.tasks[t]?.[i] as number) - (l.base[i] as number));
            if (m[i]) {
              expect(Math.sign(tau)).toBe(Math.sign(uni[i] as number));
              expect(Math.abs(uni[i] as number)).toBeGreaterThanOrEqual(Math.abs(tau));
            } else if (uni[i] !== 0) {
              expect(tau * (uni[i] as number) > 0).toBe(false); // a task that agrees is never masked off
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('model set refusals', () => {
  const one = (name: string, shape = [2]) =>
    memoryCheckpoint(name, [
      { name: 'w', dtype: 'F32', shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
    ]);
  it('fewer than two tasks', () => {
    expect(() => buildModelSet(one('b'), [{ name: 'a', checkpoint: one('a') }])).toThrow(
      /at least two tasks/,
    );
  });
  it('duplicate task names', () => {
    expect(() =>
      buildModelSet(one('b'), [
        { name: 'a', checkpoint: one('a') },
        { name: 'a', checkpoint: one('c') },
      ]),
    ).toThrow(/named "a"/);
  });
  it('no shared tensor', () => {
    expect(() =>
      buildModelSet(one('b', [2]), [
        { name: 'x', checkpoint: one('x', [3]) },
        { name: 'y', checkpoint: one('y', [3]) },
      ]),
    ).toThrow(/No tensor is shared/);
  });
  it('reports why each tensor is left out', () => {
    const base = memoryCheckpoint('b', [
      { name: 'w', dtype: 'F32', shape: [2], values: new Float32Array(2) },
      { name: 'ids', dtype: 'I64', shape: [2], values: new Uint8Array(16) },
      { name: 'only-some', dtype: 'F32', shape: [1], values: new Float32Array(1) },
      { name: 'pretext', dtype: 'F32', shape: [1], values: new Float32Array(1) },
    ]);
    const task = (n: string, extra: MemoryTensor[]) =>
      memoryCheckpoint(n, [
        { name: 'w', dtype: 'F32', shape: [2], values: new Float32Array(2) },
        { name: 'ids', dtype: 'I64', shape: [2], values: new Uint8Array(16) },
        ...extra,
      ]);
    const set = buildModelSet(base, [
      {
        name: 'a',
        checkpoint: task('a', [{ name: 'only-some', dtype: 'F32', shape: [1], values: new Float32Array(1) }]),
      },
      {
        name: 'b',
        checkpoint: task('b', [{ name: 'new', dtype: 'F32', shape: [3], values: new Float32Array(3) }]),
      },
    ]);
    expect(set.report.leftOut.map((l) => [l.name, l.reason, l.passThroughTasks])).toEqual([
      ['ids', 'non-float', ['a', 'b']],
      ['only-some', 'missing-in-task', ['a']],
      ['new', 'missing-in-base', ['b']],
    ]);
    expect(set.report.baseOnly).toEqual(['pretext']);
    expect(set.passThrough.map((p) => p.map((e) => e.name))).toEqual([
      ['ids', 'only-some'],
      ['ids', 'new'],
    ]);
  });
});

describe('method parameters', () => {
  it('fills defaults and refuses what a method does not take', () => {
    expect(methodSpec('ta')).toEqual({ method: 'ta', lambda: 0.3 });
    expect(methodSpec('ties')).toEqual({ method: 'ties', k: 0.2, lambda: 1 });
    expect(methodSpec('emr')).toEqual({ method: 'emr', rescale: 'tensor-mean' });
    expect(() => methodSpec('avg', { lambda: 1 })).toThrow(/avg takes no parameter lambda/);
    expect(() => methodSpec('ties', { k: 0 })).toThrow(/k/);
    expect(isEmr({ spec: methodSpec('emr') } as EmrResult)).toBe(true);
  });
});
