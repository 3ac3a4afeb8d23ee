// Plan: mergekit's methods through the GPU engine — the GTA family's mix, the drops, slerp's and
// nuslerp's combine, linear and model_stock's blend on their GPU programs (counted, with the size
// rule off), the rest on the CPU (docs/merge.md#mergekit) — give the CPU engine's bits, for a
// method of each kind (random drops, rank-based drops, consensus, linear, model_stock whole and per
// row, the SLERP family) and for a recipe's per-tensor settings (a gradient over depth, a filter),
// from bf16 and f16 inputs.
import { describe, expect, it } from 'vitest';
import { tensorName } from '../formats/tensor';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { mergekitSpec } from '../merge/mergekit/spec';
import { makeSet, randomLayers, type Layer } from '../merge/testing/engine-suite';
import { GpuEngine } from './engine';
import { testGpu } from './testing/gpu';
import { recordPrograms } from './testing/programs';

describe('mergekit methods on the GPU engine', () => {
  it('equal the CPU engine bit for bit', async () => {
    const gpu = new GpuEngine(await testGpu(), false, { mergekitMinElements: 0 });
    const cpu = new CpuEngine();
    const { programs, restore } = recordPrograms();
    try {
      const layers = randomLayers(4, 3, [[3, 5, 7], [33], [8, 40]]);
      for (const dtype of ['BF16', 'F16'] as const) {
        const set = makeSet(layers, 3, { dtype });
        for (const spec of [
          mergekitSpec('dare_ties', { density: 0.5, seed: 4 }),
          mergekitSpec('della', { density: 0.5, epsilon: 0.1 }),
          mergekitSpec('breadcrumbs_ties', { density: 0.6, gamma: 0.05 }),
          mergekitSpec('model_stock', { filter_wise: true }),
          mergekitSpec('model_stock', {}),
          mergekitSpec('linear', { models: [{ weight: 1 }, { weight: -0.3 }, { weight: 0.7 }] }),
          mergekitSpec('linear', {
            normalize: false,
            models: [{ weight: 0.2 }, { weight: 0.5 }, { weight: 2 }],
          }),
          mergekitSpec('multislerp', { models: [{ weight: 1 }, { weight: 2 }, { weight: 0.5 }] }),
          // A recipe's per-tensor settings: a gradient over depth and a filter.
          {
            ...mergekitSpec('ties', { density: 0.5 }),
            settings: {
              global: { density: [0.2, 0.9], weight: [{ filter: 'layers.1', value: 0.5 }, { value: 1 }] },
              models: [],
            },
          },
        ]) {
          const [g, c] = [await runMerge(set, spec, gpu), await runMerge(set, spec, cpu)];
          for (const l of layers) {
            expect(bits(g.merged.get(tensorName(l.name)))).toEqual(bits(c.merged.get(tensorName(l.name))));
          }
        }
      }
      // slerp and nuslerp take one and two models besides the base.
      const pairs: [Layer[], ReturnType<typeof mergekitSpec>][] = [
        [layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 1) })), mergekitSpec('slerp', { t: 0.3 })],
        [
          layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 2) })),
          mergekitSpec('nuslerp', { nuslerp_flatten: false }),
        ],
        [layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 2) })), mergekitSpec('nuslerp', {})],
        [
          layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 2) })),
          mergekitSpec('nuslerp', { nuslerp_flatten: false, nuslerp_row_wise: true }),
        ],
        [
          layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 2) })),
          mergekitSpec('nuslerp', { use_base: false }),
        ],
      ];
      for (const [ls, spec] of pairs) {
        const small = makeSet(ls, ls[0]?.tasks.length ?? 0, { dtype: 'BF16', minTasks: 1 });
        const [g, c] = [await runMerge(small, spec, gpu), await runMerge(small, spec, cpu)];
        for (const l of ls)
          expect(bits(g.merged.get(tensorName(l.name)))).toEqual(bits(c.merged.get(tensorName(l.name))));
      }
      // Each of linear's and model_stock's tensors ran on its program (3 tensors × 2 specs × 2 dtypes);
      // combine2 ran slerp's 3 tensors, nuslerp's flattened ones (3, twice), its rows along the last
      // dimension (3: the 1-D tensor as one vector) and, along dim 0 (on the CPU), its 1-D tensor.
      const count = (p: string) => programs.filter((x) => x === p).length;
      expect([count('linear-mix'), count('stock-blend'), count('combine2')]).toEqual([12, 12, 13]);
    } finally {
      restore();
      gpu.dispose();
    }
  });
});

const bits = (v: Float32Array | undefined) => Array.from(new Uint32Array((v as Float32Array).slice().buffer));
