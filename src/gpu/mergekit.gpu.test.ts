// Plan: mergekit's methods have no GPU programs yet — their per-tensor passes run on the CPU under
// either engine (docs/merge.md#mergekit) — so a merge through the GPU engine must give the CPU
// engine's bits, for a method of each kind (random drops, rank-based drops, consensus, model_stock).
import { describe, expect, it } from 'vitest';
import { tensorName } from '../formats/tensor';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { mergekitSpec } from '../merge/mergekit/spec';
import { makeSet, randomLayers } from '../merge/testing/engine-suite';
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
      ]) {
        const [g, c] = [await runMerge(set, spec, gpu), await runMerge(set, spec, cpu)];
        for (const l of layers) {
          const bits = (v: Float32Array | undefined) =>
            Array.from(new Uint32Array((v as Float32Array).slice().buffer));
          expect(bits(g.merged.get(tensorName(l.name)))).toEqual(bits(c.merged.get(tensorName(l.name))));
        }
      }
    } finally {
      gpu.dispose();
    }
  });
});
