// Plan: slerp's and nuslerp's element-wise step on the GPU (programs/combine2.ts) equals its CPU
// twin (CpuEngine.combine2, mergekit/slerp-mix.ts) bit for bit and runs on the GPU — the twin is not
// asked — on values where a fused multiply-add would round differently (counted, so the check
// cannot pass vacuously), with ±0, tiled past a (forced small) binding, with and without nuslerp's
// divisor (sin θ, down to its 1e-8 floor, quotients that are ties); factors outside the exact
// range and a divisor that is no normal f32 go to the twin, a tile with NaN or a quotient that
// leaves the normal range too. The per-row variant (nuslerp's vectors along the last dimension,
// `combineRows`) likewise, rows straddling tiles, a row out of range sending only its tile.
import { describe, expect, it, vi } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import type { Combine2, CombineRowsInput } from '../merge/mergekit/slerp-mix';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

let seed = 3;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
const fr = Math.fround;
const vec = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 19 === 0 ? -0 : random()));

async function compare(gpu: GpuEngine, f: Combine2, v0: Float32Array, v1: Float32Array, twinCalls: number) {
  const spy = vi.spyOn(CpuEngine.prototype, 'combine2');
  const g = await gpu.combine2(f, v0, v1);
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  expect(calls).toBe(twinCalls);
  expect(bits(g)).toEqual(bits(await new CpuEngine().combine2(f, v0, v1)));
}

describe("slerp's element-wise step on the GPU", () => {
  it('equals the CPU twin bit for bit, unfused, tiled or not', async () => {
    const real = await testGpu();
    for (const gpu of [
      new GpuEngine(real),
      new GpuEngine(withLimits(real, { maxStorageBufferBindingSize: 4 * 2048 })),
    ])
      try {
        for (const f of [
          { a: fr(0.7), b: fr(0.3) },
          { a: fr(0.8123456), b: fr(-0.3333333) },
          { a: fr(0.8123456), b: fr(-0.3333333), divide: fr(0.4794255) },
          { a: fr(0.6180339), b: fr(0.3819661), divide: fr(1e-8) },
        ]) {
          const [v0, v1] = [vec(2048 * 2 + 31), vec(2048 * 2 + 31)];
          let fusedDiffers = 0;
          v0.forEach((x, i) => {
            const y = v1[i] as number;
            fusedDiffers += +(fr(f.a * x + fr(f.b * y)) !== fr(fr(f.a * x) + fr(f.b * y)));
          });
          expect(fusedDiffers).toBeGreaterThan(10);
          await compare(gpu, f, v0, v1, 0);
        }
      } finally {
        gpu.dispose();
      }
  });

  it('hands factors out of range, a subnormal divisor, a NaN tile and a quotient out of range to the twin', async () => {
    const gpu = new GpuEngine(withLimits(await testGpu(), { maxStorageBufferBindingSize: 4 * 2048 }));
    try {
      const [v0, v1] = [vec(3000), vec(3000)];
      await compare(gpu, { a: 1e-30, b: 1 }, v0, v1, 1);
      await compare(gpu, { a: 0.5, b: 0.5, divide: 1e-40 }, v0, v1, 1); // a subnormal divisor
      await compare(gpu, { a: 0.5, b: 0.5, divide: fr(0.7) }, v0, v1, 0);
      // A quotient past the normal range (2^63·2^20 / 2^-50: ∞ on the twin): that tile only.
      const big = v0.slice();
      big[10] = 2 ** 63;
      await compare(gpu, { a: 2 ** 20, b: 0, divide: 2 ** -50 }, big, v1, 1);
      v1[2100] = NaN;
      await compare(gpu, { a: 0.5, b: 0.5 }, v0, v1, 1);
    } finally {
      gpu.dispose();
    }
  });
});

async function compareRows(gpu: GpuEngine, x: CombineRowsInput, twinCalls: number) {
  const spy = vi.spyOn(CpuEngine.prototype, 'combineRows');
  const g = await gpu.combineRows(x);
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  expect(calls).toBe(twinCalls);
  expect(bits(g)).toEqual(bits(await new CpuEngine().combineRows(x)));
}

/** nuslerp-like factors per row: (a, b, sin θ), every fifth row a lerp (divisor 1). */
const rowFactors = (rows: number) => {
  const f = new Float32Array(rows * 4);
  for (let r = 0; r < rows; r++)
    f.set(
      r % 5 === 0
        ? [fr(0.7), fr(0.3), 1]
        : [fr(Math.abs(random())), fr(random()), fr(0.05 + Math.abs(random()))],
      r * 4,
    );
  return f;
};

describe("nuslerp's per-row step on the GPU", () => {
  it('equals the CPU twin bit for bit, rows of 1, 3 and 257 across tiles, lerp rows', async () => {
    const real = await testGpu();
    for (const gpu of [
      new GpuEngine(real, false, { mergekitMinElements: 0 }),
      new GpuEngine(withLimits(real, { maxStorageBufferBindingSize: 16 * 2048 }), false, {
        mergekitMinElements: 0,
      }),
    ])
      try {
        for (const row of [1, 3, 257]) {
          const n = row * Math.ceil((2048 * 2 + 31) / row);
          await compareRows(gpu, { v0: vec(n), v1: vec(n), row, factors: rowFactors(n / row) }, 0);
        }
      } finally {
        gpu.dispose();
      }
  });

  it('hands a tile with NaN, a factor out of range or a subnormal divisor to the twin', async () => {
    const gpu = new GpuEngine(
      withLimits(await testGpu(), { maxStorageBufferBindingSize: 16 * 2048 }),
      false,
      {
        mergekitMinElements: 0,
      },
    );
    try {
      const n = 257 * 24; // three tiles of 2048
      const x = { v0: vec(n), v1: vec(n), row: 257, factors: rowFactors(24) };
      x.v1[5] = NaN; // tile 0
      x.factors[9 * 4 + 1] = 1e-30; // row 9 (elements 2313–2569): tile 1
      await compareRows(gpu, x, 2);
      const y = { ...x, v1: vec(n), factors: rowFactors(24) };
      y.factors[20 * 4 + 2] = 1e-40; // row 20 (elements 5140–5396): tile 2
      await compareRows(gpu, y, 1);
    } finally {
      gpu.dispose();
    }
  });
});
