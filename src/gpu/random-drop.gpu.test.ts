// Plan: DARE's (and DELLA's, a probability per element) random drops on the GPU (programs/random-drop.ts) equal the CPU twin
// (CpuEngine.randomDrop, mergekit/sparsify.ts) bit for bit and are drawn on the GPU — the twin is
// not asked — with the seeded words of mergekit/rng.ts: over several densities and keys, on τ with
// ±0 and subnormals (passed as bits, never flushed), tiled past a (forced small) binding so that
// tiles after the first draw from their own offset; a tile with NaN/±∞ goes to the twin.
import { describe, expect, it, vi } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import { streamKey } from '../merge/mergekit/rng';
import { dellaProbabilities } from '../merge/mergekit/sparsify';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

let seed = 7;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

function tau(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) =>
    i % 13 === 0 ? -0 : i % 17 === 0 ? 1e-40 * (i % 2 ? 1 : -1) : random() * 0.01,
  );
}

async function compare(
  gpu: GpuEngine,
  t: Float32Array,
  key: number,
  density: number | Float32Array,
  twinCalls: number,
) {
  const spy = vi.spyOn(CpuEngine.prototype, 'randomDrop');
  const g = await gpu.randomDrop(t, key, density);
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  expect(calls).toBe(twinCalls);
  const c = await new CpuEngine().randomDrop(t, key, density);
  expect(bits(g)).toEqual(bits(c));
  return g;
}

describe("DARE's random drops on the GPU", () => {
  it('equal the CPU twin bit for bit, drawn on the GPU, tiled or not', async () => {
    const real = await testGpu();
    for (const gpu of [
      new GpuEngine(real),
      new GpuEngine(withLimits(real, { maxStorageBufferBindingSize: 4 * 2048 })),
    ])
      try {
        for (const density of [0.1, 0.5, 0.9])
          for (const name of ['model.layers.0.mlp.up_proj.weight', 'w']) {
            const t = tau(2048 * 3 + 77);
            const g = await compare(gpu, t, streamKey(12345, name, 2), density, 0);
            const nonzero = t.filter((x) => x !== 0).length;
            const kept = g.filter((x, i) => x !== 0 && x === t[i]).length;
            expect(Math.abs(kept / nonzero - density)).toBeLessThan(0.05); // the drops happen
          }
      } finally {
        gpu.dispose();
      }
  });

  it("DELLA's drops: a probability per element from the ranks, tiled", async () => {
    const gpu = new GpuEngine(withLimits(await testGpu(), { maxStorageBufferBindingSize: 4 * 2048 }));
    try {
      const t = tau(64 * 97);
      const probs = dellaProbabilities(t, [64, 97], 0.5, 0.3);
      expect(new Set(probs).size).toBeGreaterThan(50); // many probabilities, not one
      await compare(gpu, t, streamKey(5, 'model.layers.3.mlp.w', 0), probs, 0);
    } finally {
      gpu.dispose();
    }
  });

  it('hands a tile with NaN/±∞ to the twin', async () => {
    const gpu = new GpuEngine(withLimits(await testGpu(), { maxStorageBufferBindingSize: 4 * 2048 }));
    try {
      const t = tau(2048 * 2 + 5);
      t[2048 + 3] = NaN;
      t[9] = -Infinity;
      await compare(gpu, t, 99, 0.5, 2);
    } finally {
      gpu.dispose();
    }
  });
});
