// Plan: mergekit's `linear` (programs/linear-mix.ts) and model_stock's blend (programs/stock-blend.ts)
// on the GPU equal their CPU twins (CpuEngine.linearMix / .stockBlend, mergekit/linear-mix.ts and
// stock-blend.ts) bit for bit and run on the GPU — the twin is not asked — on values where a fused
// multiply-add would round differently (counted, so the check cannot pass vacuously), with ±0 in
// every position (a sum of −0s is +0 on the twin), exact zeros, negative weights, values of f16 and
// bf16 inputs, rows that straddle tiles (forced small bindings) and rows of one element. NaN, ±∞
// and subnormals send their tile to the twin (counted); weights out of the exact range, a
// `normalize` divisor of 0 and more tasks than the kernels take send the call. Under the size rule
// (MERGEKIT_GPU_MIN_ELEMENTS) no GPU pass runs.
import { describe, expect, it, vi } from 'vitest';
import { narrowFromF32, widenToF32 } from '../formats/dtype';
import { CpuEngine } from '../merge/cpu/engine';
import type { LinearMixInput } from '../merge/mergekit/linear-mix';
import type { StockBlendInput } from '../merge/mergekit/stock-blend';
import { GpuEngine, MERGEKIT_GPU_MIN_ELEMENTS } from './engine';
import { GpuRuntime } from './runtime/runtime';
import { testGpu, withLimits } from './testing/gpu';

let seed = 17;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
const fr = Math.fround;

/** Values with zeros of both signs, repeated values (ties), and random significands. */
const vec = (n: number, t: number) =>
  Float32Array.from({ length: n }, (_, i) =>
    i % 13 === 0 ? -0 : i % 17 === t ? 0 : i % 23 === 0 ? 0.375 : random() * 2 ** ((i % 9) - 4),
  );
/** The same values as stored f16 or bf16 and widened back (what runMergekit hands the engine). */
const asStored = (v: Float32Array, dtype: 'F16' | 'BF16') => widenToF32(narrowFromF32(v, dtype), dtype);

async function twinCalls<T>(method: 'linearMix' | 'stockBlend', run: () => Promise<T>): Promise<[T, number]> {
  const spy = vi.spyOn(CpuEngine.prototype, method);
  try {
    const out = await run();
    return [out, spy.mock.calls.length];
  } finally {
    spy.mockRestore();
  }
}

async function compareLinear(gpu: GpuEngine, x: LinearMixInput, expectTwin: number) {
  const [g, calls] = await twinCalls('linearMix', () => gpu.linearMix(x));
  expect(calls).toBe(expectTwin);
  expect(bits(g)).toEqual(bits(await new CpuEngine().linearMix(x)));
}

async function compareBlend(gpu: GpuEngine, x: StockBlendInput, expectTwin: number) {
  const [g, calls] = await twinCalls('stockBlend', () => gpu.stockBlend(x));
  expect(calls).toBe(expectTwin);
  expect(bits(g)).toEqual(bits(await new CpuEngine().stockBlend(x)));
}

/** Elements where w0·x0 + w1·x1 rounds otherwise when the first product is fused into the sum. */
function fusedDiffers(x: LinearMixInput): number {
  const [a, b] = x.tasks as [Float32Array, Float32Array];
  const [w0, w1] = x.weights.map(fr) as [number, number];
  let count = 0;
  a.forEach(
    (v, i) =>
      (count += +(fr(fr(w1 * (b[i] as number)) + w0 * v) !== fr(fr(w0 * v) + fr(w1 * (b[i] as number))))),
  );
  return count;
}

const engines = async () => {
  const real = await testGpu();
  return [
    new GpuEngine(real, false, { mergekitMinElements: 0 }),
    // Three f32 tasks of 2048 elements fill a binding: tiles of 2048 elements.
    new GpuEngine(withLimits(real, { maxStorageBufferBindingSize: 3 * 4 * 2048 }), false, {
      mergekitMinElements: 0,
    }),
  ];
};

describe("mergekit's linear on the GPU", () => {
  it('equals the CPU twin bit for bit, unfused, ±0 made +0, tiled or not, from f32, f16 and bf16', async () => {
    for (const gpu of await engines())
      try {
        for (const dtype of ['F32', 'F16', 'BF16'] as const)
          for (const weights of [
            [fr(0.7), fr(0.3), fr(1.1)],
            [0.8123456, -0.3333333, 2],
            [1, 0, -1], // a weight of 0, and weights whose sum is 0 when not normalized
          ])
            for (const normalize of [true, false]) {
              if (normalize && weights[2] === -1) continue; // Σ w = 0: below
              const n = 2048 * 2 + 31;
              const tasks = weights.map((_, t) => (dtype === 'F32' ? vec(n, t) : asStored(vec(n, t), dtype)));
              // Every task −0 at one element: the twin's sum from +0 is +0 there.
              for (const t of tasks) t[5] = -0;
              const x = { tasks, weights, normalize };
              if (dtype === 'F32' && weights[1] === -0.3333333) expect(fusedDiffers(x)).toBeGreaterThan(10);
              await compareLinear(gpu, x, 0);
              expect(Object.is((await gpu.linearMix(x))[5], 0)).toBe(true);
            }
      } finally {
        gpu.dispose();
      }
  });

  it('divides exactly by Σ w (div_any_rn), also where the quotient is a tie', async () => {
    const [gpu] = await engines();
    try {
      for (const w of [3, 0.1, -1.7, fr(1 + 2 ** -23), 1 / 3]) {
        const n = 4096;
        const x = Float32Array.from({ length: n }, (_, i) =>
          i % 5 === 0 ? fr(w * (1 + (i % 97) * 2 ** -22)) / fr(w) : fr(random() * 2 ** ((i % 41) - 20)),
        );
        await compareLinear(gpu as GpuEngine, { tasks: [x], weights: [w], normalize: true }, 0);
      }
    } finally {
      gpu?.dispose();
    }
  });

  it('hands NaN, ±∞ and subnormal tiles, out-of-range weights, Σ w = 0 and too many tasks to the twin', async () => {
    const [, gpu] = await engines();
    try {
      const n = 2048 * 3 + 100; // four tiles
      const mk = () => [vec(n, 0), vec(n, 1), vec(n, 2)];
      const tasks = mk();
      (tasks[1] as Float32Array)[2048 + 5] = NaN;
      (tasks[0] as Float32Array)[2048 * 3 + 7] = 1e-40; // subnormal
      await compareLinear(gpu as GpuEngine, { tasks, weights: [1, 0.5, 2], normalize: true }, 2);
      const inf = mk();
      (inf[2] as Float32Array)[3] = -Infinity;
      await compareLinear(gpu as GpuEngine, { tasks: inf, weights: [1, 0.5, 2], normalize: false }, 1);
      // Products that nearly cancel (Σ = 2^-107) over Σ w ≈ 2^20: a subnormal quotient, the kernel's flag.
      const tiny = mk();
      [(tiny[0] as Float32Array)[9], (tiny[1] as Float32Array)[9], (tiny[2] as Float32Array)[9]] = [
        fr(2 ** -64 * (1 + 2 ** -23)),
        -(2 ** -64),
        0,
      ];
      const w = [2 ** -20, 2 ** -20, 2 ** 20];
      await compareLinear(gpu as GpuEngine, { tasks: tiny, weights: w, normalize: true }, 1);
      await compareLinear(gpu as GpuEngine, { tasks: tiny, weights: w, normalize: false }, 0);
      await compareLinear(gpu as GpuEngine, { tasks: mk(), weights: [1, 1e-30, 2], normalize: true }, 1);
      await compareLinear(gpu as GpuEngine, { tasks: mk(), weights: [1, 1, -2], normalize: true }, 1); // ±∞, NaN
      const many = Array.from({ length: 65 }, (_, t) => vec(100, t % 17));
      await compareLinear(gpu as GpuEngine, { tasks: many, weights: many.map(() => 1), normalize: true }, 1);
    } finally {
      gpu?.dispose();
    }
  });

  it('runs no GPU pass under the size rule, and gives the same bits', async () => {
    const gpu = new GpuEngine(await testGpu());
    const run = vi.spyOn(GpuRuntime.prototype, 'run');
    try {
      const n = MERGEKIT_GPU_MIN_ELEMENTS - 1;
      const x = { tasks: [vec(n, 0), vec(n, 1)], weights: [0.25, 0.75], normalize: true };
      const s = { base: vec(n, 3), tasks: x.tasks, row: n, t: Float32Array.of(0.6) };
      expect(bits(await gpu.linearMix(x))).toEqual(bits(await new CpuEngine().linearMix(x)));
      expect(bits(await gpu.stockBlend(s))).toEqual(bits(await new CpuEngine().stockBlend(s)));
      expect(run).not.toHaveBeenCalled();
    } finally {
      run.mockRestore();
      gpu.dispose();
    }
  });
});

/** t per row: typical values, 0 and 1 (a blend that is the base or the mean), and negative t. */
const factors = (rows: number) =>
  Float32Array.from({ length: rows }, (_, r) =>
    r % 7 === 0 ? 0 : r % 7 === 1 ? 1 : r % 7 === 2 ? -0.4 : fr(random()),
  );

describe("model_stock's blend on the GPU", () => {
  it('equals the CPU twin bit for bit, unfused, per row, rows across tiles, from f32, f16 and bf16', async () => {
    for (const gpu of await engines())
      try {
        for (const dtype of ['F32', 'F16', 'BF16'] as const)
          for (const row of [1, 3, 1000, 2048 * 2 + 31]) {
            const n = 2048 * 2 + 31 + (row === 3 ? 1 : 0); // whole rows
            const len = row === 1000 ? 4000 : n;
            const mk = (t: number) => (dtype === 'F32' ? vec(len, t) : asStored(vec(len, t), dtype));
            const tasks = [mk(0), mk(1), mk(2)];
            for (const t of tasks) t[5] = -0;
            const x = { base: mk(3), tasks, row, t: factors(Math.ceil(len / row)) };
            await compareBlend(gpu, x, 0);
          }
      } finally {
        gpu.dispose();
      }
  });

  it('hands NaN, subnormal tiles and factors out of range (per tile) to the twin', async () => {
    const [, gpu] = await engines();
    try {
      const n = 2048 * 3 + 100;
      const x = { base: vec(n, 3), tasks: [vec(n, 0), vec(n, 1)], row: 100, t: factors(Math.ceil(n / 100)) };
      await compareBlend(gpu as GpuEngine, x, 0);
      (x.tasks[0] as Float32Array)[10] = NaN;
      x.base[2048 * 3 + 1] = -1e-42;
      await compareBlend(gpu as GpuEngine, x, 2);
      // model_stock's t of one task (no pairs: NaN) and a t near a pole: the tiles they meet.
      const y = { ...x, tasks: [vec(n, 0), vec(n, 1)], base: vec(n, 3), t: factors(Math.ceil(n / 100)) };
      y.t[1] = NaN; // row 1: tile 0
      y.t[45] = 3e7; // row 45 (elements 4500–4599): tile 2
      await compareBlend(gpu as GpuEngine, y, 2);
    } finally {
      gpu?.dispose();
    }
  });
});
