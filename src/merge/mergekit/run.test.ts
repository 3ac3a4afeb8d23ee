// Plan: every mergekit method, merged through runMerge, against the float64 port of mergekit's torch
// code (../testing/mergekit-port: GTATask.execute, LinearMergeTask.execute) on the engine suite's
// random layers (exact ties, zeros; odd shapes, 1-element tensors) in F32/F16/BF16, with per-model
// parameters; the JavaScript and WebAssembly CPU engines and the worker-thread engine give the same
// bits; the parameters are checked by name and range; `ties` reaches both variants unambiguously.
import { describe, expect, it } from 'vitest';
import type { MergeDType } from '../../formats/dtype';
import { tensorName } from '../../formats/tensor';
import { CpuEngine } from '../cpu/engine';
import { createNodeCpuEngine } from '../cpu/node-engine';
import type { MergeEngine } from '../engine';
import { runMerge, type MergekitResult } from '../merge';
import { anyMethodSpec, describeMethod } from '../methods';
import { makeSet, randomLayers, referenceInput } from '../testing/engine-suite';
import { gtaExecute, linearExecute, modelStockExecute } from '../testing/mergekit-port';
import { intervalOf } from '../param-range';
import {
  GTA_METHODS,
  mergekitSpec,
  SEED_RANGE,
  resolveModel,
  type MergekitParams,
  type MergekitMethod as AnyMergekitMethod,
  type SlerpMethod,
} from './spec';

/** The SLERP family has its own tests (./slerp.test.ts). */
type MergekitMethod = Exclude<AnyMergekitMethod, SlerpMethod>;

const shapes = [[3, 5, 7], [1], [33], [4, 1], [8, 40], [2, 3, 2, 2]];
const numTasks = 3;

const recipes: Record<MergekitMethod, MergekitParams> = {
  task_arithmetic: { models: [{ weight: 0.5 }, { weight: 1 }, { weight: -0.3 }], lambda: 0.9 },
  ties: {
    models: [
      { weight: 1, density: 0.5 },
      { weight: 0.7, density: 0.2 },
      { weight: 0.4, density: 1 },
    ],
  },
  dare_ties: { density: 0.6, weight: 0.8, seed: 12345 },
  dare_linear: {
    models: [{ weight: 0.5, density: 0.3 }, { weight: 0.5, density: 0.9 }, { weight: 1 }],
    seed: 9,
  },
  breadcrumbs: { density: 0.7, gamma: 0.05, weight: 1 },
  breadcrumbs_ties: {
    models: [{ density: 0.5, gamma: 0.1 }, { density: 0.8 }, { density: 0.4, gamma: 0 }],
    weight: 1,
  },
  della: { density: 0.5, epsilon: 0.2, weight: 1, lambda: 1.1 },
  della_linear: {
    models: [{ density: 0.4, epsilon: 0.1 }, { density: 0.6 }, { density: 0.5, epsilon: 0.3 }],
    weight: 0.5,
  },
  linear: { models: [{ weight: 0.2 }, { weight: 0.3 }, { weight: 0.5 }] },
  model_stock: {},
};

function portMerge(method: MergekitMethod, params: MergekitParams, dtype: MergeDType, seed: number) {
  const layers = randomLayers(seed, numTasks, shapes);
  const input = referenceInput(layers, dtype);
  const spec = mergekitSpec(method, params);
  const perTask = Array.from({ length: numTasks }, (_, t) => resolveModel(spec, t));
  const want = layers.map((l, li) => {
    const { base, tasks } = input.tensors[li] as { base: Float32Array; tasks: Float32Array[] };
    const args = { name: l.name, shape: l.shape, base, tasks, params: perTask };
    return method === 'linear'
      ? linearExecute(spec.normalize, args)
      : method === 'model_stock'
        ? modelStockExecute(spec.filterWise, args)
        : gtaExecute(
            method,
            { normalize: spec.normalize, rescale: spec.rescale, lambda: spec.lambda, seed: spec.seed },
            args,
          );
  });
  return { set: makeSet(layers, numTasks, { dtype }), spec, layers, want };
}

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.slice().buffer));

describe('mergekit methods against the port of mergekit', () => {
  const engine = new CpuEngine();
  for (const method of Object.keys(recipes) as MergekitMethod[])
    for (const dtype of ['F32', 'F16', 'BF16'] as const)
      it(`${method}, ${dtype}`, async () => {
        const { set, spec, layers, want } = portMerge(method, recipes[method], dtype, 17);
        const r = await runMerge(set, spec, engine, { budgetBytes: 1 });
        expect(r.spec).toBe(spec);
        layers.forEach((l, li) => {
          const got = r.merged.get(tensorName(l.name)) as Float32Array;
          const w = want[li] as Float64Array;
          expect(got.length).toBe(w.length);
          // f32 arithmetic against f64: a few roundings of values below 2 in magnitude.
          got.forEach((x, i) =>
            expect(Math.abs(x - (w[i] as number))).toBeLessThan(2e-6 * (1 + Math.abs(w[i] as number))),
          );
        });
      });

  for (const dtype of ['F32', 'BF16'] as const)
    it(`model_stock, filter_wise, ${dtype}`, async () => {
      const { set, spec, layers, want } = portMerge('model_stock', { filter_wise: true }, dtype, 23);
      const r = await runMerge(set, spec, engine);
      layers.forEach((l, li) => {
        const got = r.merged.get(tensorName(l.name)) as Float32Array;
        const w = want[li] as Float64Array;
        // Rows of one or a few elements have cosines near ±1 whose mean may sit near −1/(N − 1),
        // where t = N·cos/(1 + (N − 1)·cos) magnifies the f32 rounding of cos several times.
        got.forEach((x, i) =>
          expect(Math.abs(x - (w[i] as number))).toBeLessThan(1e-5 * (1 + Math.abs(w[i] as number))),
        );
      });
    });

  it('model_stock interpolates toward the average as the offsets align', async () => {
    // Offsets (1, 0) and (1, 0): cos = 1, t = 1 → the average; (1, 0) and (0, 1): cos = 0 → the base.
    const layer = (second: number[]) => ({
      name: 'w',
      shape: [2],
      base: new Float32Array(2),
      tasks: [new Float32Array([1, 0]), new Float32Array(second)],
    });
    const run = async (second: number[]) =>
      Array.from(
        (await runMerge(makeSet([layer(second)], 2), mergekitSpec('model_stock'), engine)).merged.get(
          tensorName('w'),
        ) as Float32Array,
      );
    expect(await run([1, 0])).toEqual([1, 0]);
    expect(await run([0, 1])).toEqual([0, 0]);
  });

  it('the methods that sparsify do drop entries (the comparison above is not vacuous)', async () => {
    const { set, layers } = portMerge('ties', recipes.ties, 'F32', 17);
    const r = await runMerge(set, mergekitSpec('ties', recipes.ties), engine);
    const ta = await runMerge(
      set,
      mergekitSpec('task_arithmetic', { models: recipes.ties.models?.map((m) => ({ weight: m.weight })) }),
      engine,
    );
    const name = tensorName((layers[4] as { name: string }).name);
    expect(bits(r.merged.get(name) as Float32Array)).not.toEqual(bits(ta.merged.get(name) as Float32Array));
  });

  it('the drops follow --seed', async () => {
    const { set } = portMerge('dare_ties', recipes.dare_ties, 'F32', 17);
    const merged = async (seed: number) =>
      (await runMerge(set, mergekitSpec('dare_ties', { ...recipes.dare_ties, seed }), engine)).merged.get(
        tensorName('layers.4.weight'),
      ) as Float32Array;
    expect(bits(await merged(1))).toEqual(bits(await merged(1)));
    expect(bits(await merged(1))).not.toEqual(bits(await merged(2)));
  });

  it('the JavaScript, WebAssembly and worker-thread CPU engines give the same bits', async () => {
    const engines: MergeEngine[] = [
      new CpuEngine({ wasm: false }),
      new CpuEngine(),
      await createNodeCpuEngine(2),
    ];
    try {
      for (const method of ['dare_ties', 'della', 'breadcrumbs_ties', 'linear'] as const) {
        const { set, spec, layers } = portMerge(method, recipes[method], 'BF16', 5);
        const results: MergekitResult[] = [];
        for (const e of engines) results.push(await runMerge(set, spec, e));
        for (const l of layers) {
          const all = results.map((r) => bits(r.merged.get(tensorName(l.name)) as Float32Array));
          expect(all[1]).toEqual(all[0]);
          expect(all[2]).toEqual(all[0]);
        }
      }
    } finally {
      for (const e of engines) e.dispose();
    }
  });

  it('counts NaN/±∞ inputs per model', async () => {
    const layers = randomLayers(3, 2, [[10]]);
    (layers[0]?.tasks[1] as Float32Array)[4] = NaN;
    const r = await runMerge(makeSet(layers, 2), mergekitSpec('ties', { density: 0.5 }), engine);
    expect(r.nonFinite?.tasks).toEqual([0, 1]);
  });
});

describe('mergekit parameters', () => {
  it('defaults follow mergekit/merge_methods/registry.py', () => {
    for (const [name, m] of Object.entries(GTA_METHODS)) {
      const spec = mergekitSpec(name as keyof typeof GTA_METHODS);
      expect([spec.normalize, spec.rescale, spec.lambda]).toEqual([m.normalize, m.rescale, 1]);
      expect(resolveModel(spec, 0)).toEqual({ weight: 1, density: 1, gamma: 0.01, epsilon: 0.15 });
    }
    expect(mergekitSpec('linear').normalize).toBe(true);
    expect(mergekitSpec('model_stock').filterWise).toBe(false);
    expect(() => mergekitSpec('model_stock', { weight: 1 })).toThrow('model_stock takes no parameter weight');
    expect(mergekitSpec('ties', { int8_mask: true }).int8Mask).toBe(true);
  });

  it('refuses, by name, parameters a method does not take and values out of range', () => {
    expect(() => mergekitSpec('ties', { gamma: 0.1 })).toThrow('ties takes no parameter gamma');
    expect(() => mergekitSpec('linear', { lambda: 2 })).toThrow('linear takes no parameter lambda');
    expect(() => mergekitSpec('dare_ties', { models: [{ epsilon: 0.1 }] })).toThrow(
      'models[0]: dare_ties takes no parameter epsilon',
    );
    expect(() => mergekitSpec('ties', { density: 1.5 })).toThrow('density must be in [0, 1]');
    expect(() => mergekitSpec('ties', { weight: NaN })).toThrow('weight must be a finite number');
    expect(() => mergekitSpec('dare_ties', { seed: -1 })).toThrow('seed must be an integer');
    expect(() => mergekitSpec('dare_ties', { seed: 2 ** 32 })).toThrow(
      'seed must be an integer in [0, 2^32)',
    );
    expect(mergekitSpec('dare_ties', { seed: 2 ** 32 - 1 })).toMatchObject({ seed: 2 ** 32 - 1 });
    // The form shows the range by its largest seed, not 2^32 itself.
    expect(intervalOf(SEED_RANGE)).toBe('[0, 4294967295]');
    expect(() => mergekitSpec('ties', { seed: 1 })).toThrow('ties takes no parameter seed');
    expect(() => mergekitSpec('ties', { normalize: 1 as unknown as boolean })).toThrow(
      'normalize must be true or false',
    );
    expect(() => mergekitSpec('della', { density: 0.1, epsilon: 0.15 })).toThrow(
      'density ± epsilon is in (0, 1)',
    );
    expect(() =>
      mergekitSpec('della', { models: [{ density: 0.5 }, { density: 0.9, epsilon: 0.2 }] }),
    ).toThrow('model 1');
  });

  it('ties: the paper variant with k or no parameter, mergekit with its parameters or in a recipe', () => {
    expect(anyMethodSpec('ties', {})).toEqual({ method: 'ties', k: 0.2, lambda: 1 });
    expect(anyMethodSpec('ties', { k: 0.3, lambda: 0.9 })).toEqual({ method: 'ties', k: 0.3, lambda: 0.9 });
    expect(anyMethodSpec('ties_paper', { lambda: 0.5 })).toEqual({ method: 'ties', k: 0.2, lambda: 0.5 });
    expect(anyMethodSpec('ties', { density: 0.2 })).toMatchObject({ method: 'mergekit', name: 'ties' });
    expect(anyMethodSpec('ties', {}, { mergekit: true })).toMatchObject({ method: 'mergekit', name: 'ties' });
    expect(anyMethodSpec('ties', { lambda: 0.5 }, { mergekit: true })).toMatchObject({
      method: 'mergekit',
      lambda: 0.5,
    });
    expect(() => anyMethodSpec('ties', { k: 0.2, density: 0.2 })).toThrow('ties takes no parameter density');
    expect(() => anyMethodSpec('dare_ties', { rescale: 'global' })).toThrow('rescale is true or false');
    expect(() => anyMethodSpec('slurp', {})).toThrow('unknown merge method "slurp"');
    expect(describeMethod(mergekitSpec('dare_ties', { density: 0.5, seed: 3 }))).toBe(
      'DARE TIES (density = 0.5, normalize: false, rescale: true, seed 3)',
    );
  });

  it('refuses per-model parameters for another number of tasks', async () => {
    const set = makeSet(randomLayers(1, 2, [[4]]), 2);
    await expect(
      runMerge(set, mergekitSpec('linear', { models: [{ weight: 1 }] }), new CpuEngine()),
    ).rejects.toThrow('1 models have parameters, the set has 2 tasks');
  });
});
