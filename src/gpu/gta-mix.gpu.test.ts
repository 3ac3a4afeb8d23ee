// Plan: the GPU program for mergekit's generalized task arithmetic mix (programs/gta-mix.ts) equals
// its CPU twin (CpuEngine.gtaMix, mergekit/gta-mix.ts) bit for bit, and computes on the GPU — the
// twin is not asked — for every combination of sign consensus, `normalize` and λ, on values that
// make the steps disagree if done otherwise: exact zeros, sign ties (Σ δ = 0), negative weights,
// agreeing weights that cancel (divisor 0 → 1), quotients that a fused or approximate division
// would round differently; also tiled past a (forced small) binding. An input out of range (NaN,
// a subnormal), λ or a weight out of the exact range go to the twin, with its bits.
import { describe, expect, it, vi } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import type { GtaMixInput } from '../merge/mergekit/gta-mix';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

let seed = 99;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

function input(n: number, weights: number[], over: Partial<GtaMixInput> = {}): GtaMixInput {
  const base = Float32Array.from({ length: n }, () => random());
  const weighted = weights.map((w, t) =>
    Float32Array.from({ length: n }, (_, i) => {
      if (i % 7 === t) return 0; // dropped by a sparsification
      if (i % 11 === 0) return t === 0 ? 0.25 : t === 1 ? -0.25 : 0; // Σ δ = 0: + wins, task 0 agrees
      return Math.fround(random() * 0.01 * w);
    }),
  );
  return { base, weighted, weights, consensus: true, normalize: true, lambda: 1, ...over };
}

async function compare(gpu: GpuEngine, x: GtaMixInput, expectTwinCalls: number) {
  const cpu = new CpuEngine();
  const spy = vi.spyOn(CpuEngine.prototype, 'gtaMix');
  const g = await gpu.gtaMix(x);
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  expect(calls).toBe(expectTwinCalls);
  expect(bits(g)).toEqual(bits(await cpu.gtaMix(x)));
}

describe("mergekit's GTA mix on the GPU", () => {
  it('equals the CPU twin bit for bit, computed on the GPU, for every mode', async () => {
    const gpu = new GpuEngine(await testGpu());
    try {
      for (const consensus of [true, false])
        for (const normalize of [true, false])
          for (const lambda of [1, 0.7])
            for (const weights of [
              [1, 0.3, 0.7],
              [0.5, -0.5, 1], // agreeing weights may cancel: divisor 0 → 1
              [-1, 2, 0], // a weight of 0
            ])
              await compare(gpu, input(3001, weights, { consensus, normalize, lambda }), 0);
    } finally {
      gpu.dispose();
    }
  });

  it('divides exactly: δ/w correctly rounded for random significands (div_any_rn)', async () => {
    const gpu = new GpuEngine(await testGpu());
    try {
      for (const w of [3, 0.1, -1.7, Math.fround(1 + 2 ** -23), 1 / 3, 1.5 * 2 ** 19]) {
        const n = 4096;
        const delta = Float32Array.from({ length: n }, (_, i) =>
          // random significands at exponents −20 … 20, and quotients that are exact or exact ties
          i % 5 === 0
            ? Math.fround(w * (1 + (i % 97) * 2 ** -22))
            : Math.fround(random() * 2 ** ((i % 41) - 20)),
        );
        const x: GtaMixInput = {
          base: new Float32Array(n),
          weighted: [delta],
          weights: [w],
          consensus: false,
          normalize: true,
          lambda: 1,
        };
        await compare(gpu, x, 0);
        const got = await gpu.gtaMix(x);
        delta.forEach((d, i) => expect(got[i]).toBe(Math.fround(d / Math.fround(w))));
      }
    } finally {
      gpu.dispose();
    }
  });

  it('tiles past a small binding, and hands out-of-range tiles, λ and weights to the twin', async () => {
    const real = await testGpu();
    const gpu = new GpuEngine(withLimits(real, { maxStorageBufferBindingSize: 3 * 4 * 2048 }));
    try {
      await compare(gpu, input(2048 * 3 + 100, [1, 0.5, 2]), 0); // four tiles
      const nan = input(2048 * 3 + 100, [1, 0.5, 2]);
      (nan.weighted[1] as Float32Array)[2048 + 5] = NaN;
      (nan.base as Float32Array)[2048 * 3 + 7] = 1e-40; // subnormal
      await compare(gpu, nan, 2); // the second and the fourth tiles
      await compare(gpu, input(500, [1, 0.5, 2], { lambda: 1e-30 }), 1);
      await compare(gpu, input(500, [1, 1e-30, 2]), 1);
    } finally {
      gpu.dispose();
    }
  });
});
