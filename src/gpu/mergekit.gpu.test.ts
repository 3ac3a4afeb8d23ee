// Plan: mergekit's methods through the GPU engine — the GTA family's mix on its GPU program
// (programs/gta-mix.ts), the rest on the CPU (docs/merge.md#mergekit) — give the CPU engine's bits, for a method of each kind (random drops, rank-based drops, consensus, model_stock,
// the SLERP family) and for a recipe's per-tensor settings (a gradient over depth, a filter).
import { describe, expect, it } from 'vitest';
import { tensorName } from '../formats/tensor';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { mergekitSpec } from '../merge/mergekit/spec';
import { makeSet, randomLayers, type Layer } from '../merge/testing/engine-suite';
import { GpuEngine } from './engine';
import { testGpu } from './testing/gpu';

describe('mergekit methods on the GPU engine', () => {
  it('equal the CPU engine bit for bit', async () => {
    const gpu = new GpuEngine(await testGpu());
    const cpu = new CpuEngine();
    try {
      const layers = randomLayers(4, 3, [[3, 5, 7], [33], [8, 40]]);
      const set = makeSet(layers, 3, { dtype: 'BF16' });
      for (const spec of [
        mergekitSpec('dare_ties', { density: 0.5, seed: 4 }),
        mergekitSpec('della', { density: 0.5, epsilon: 0.1 }),
        mergekitSpec('breadcrumbs_ties', { density: 0.6, gamma: 0.05 }),
        mergekitSpec('model_stock', { filter_wise: true }),
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
      // slerp and nuslerp take one and two models besides the base.
      const pairs: [Layer[], ReturnType<typeof mergekitSpec>][] = [
        [layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 1) })), mergekitSpec('slerp', { t: 0.3 })],
        [
          layers.map((l) => ({ ...l, tasks: l.tasks.slice(0, 2) })),
          mergekitSpec('nuslerp', { nuslerp_flatten: false }),
        ],
      ];
      for (const [ls, spec] of pairs) {
        const small = makeSet(ls, ls[0]?.tasks.length ?? 0, { dtype: 'BF16', minTasks: 1 });
        const [g, c] = [await runMerge(small, spec, gpu), await runMerge(small, spec, cpu)];
        for (const l of ls)
          expect(bits(g.merged.get(tensorName(l.name)))).toEqual(bits(c.merged.get(tensorName(l.name))));
      }
    } finally {
      gpu.dispose();
    }
  });
});

const bits = (v: Float32Array | undefined) => Array.from(new Uint32Array((v as Float32Array).slice().buffer));
