// Plan: the WGSL LoRA kernel against its CPU twin (src/peft/kernel.ts), bit for bit, in dawn.node
// and in Chromium. Properties over random shapes, ranks, scales (alpha/r that f32 cannot hold,
// rsLoRA's alpha/√r), ranges that start and end mid-row, fan_in_fan_out, and values spread over the
// range the shader takes (coarse significands, so sums tie and cancel to zero). Then the cases that
// find bugs, each counted so it cannot silently fall to the CPU: ties to even, signed zeros, tiles
// of a range larger than a binding over a 2-D dispatch, one upload of A and B per weight; what the
// kernel cannot take exactly (subnormal, NaN, ±∞ bases; tiny or huge factors) on the CPU twin with
// the same bytes. Through adapters: ./lora-adapters.gpu.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LoraFactors } from '../peft/kernel';
import { GpuLoraKernel } from './lora';
import { testGpu, withLimits } from './testing/gpu';
import { expectTwin, factors, values } from './testing/lora-kernel';

describe('GPU LoRA kernel', () => {
  it('equals the CPU twin bit for bit over random shapes, ranks, scales, ranges and layouts', async () => {
    const kernel = new GpuLoraKernel(await testGpu());
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rows: fc.integer({ min: 1, max: 48 }),
          cols: fc.integer({ min: 1, max: 300 }),
          r: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constantFrom(32, 64, 128)),
          alpha: fc.constantFrom(1, 3, 7, 16, 32, 0.5),
          rslora: fc.boolean(),
          fanInFanOut: fc.boolean(),
          coarse: fc.boolean(),
          from: fc.double({ min: 0, max: 1, noNaN: true }),
          to: fc.double({ min: 0, max: 1, noNaN: true }),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        }),
        async (p) => {
          const numel = p.rows * p.cols;
          const [lo, hi] = [p.from, p.to].sort((x, y) => x - y) as [number, number];
          const first = Math.min(numel - 1, Math.floor(lo * numel));
          const last = Math.max(first + 1, Math.ceil(hi * numel));
          const scale = p.rslora ? p.alpha / Math.sqrt(p.r) : p.alpha / p.r;
          const f = factors(p.rows, p.cols, p.r, scale, p.fanInFanOut, p.seed, p.coarse);
          const w = values(last - first, p.seed + 7, { coarse: p.coarse });
          await expectTwin(kernel, f, w, first);
        },
      ),
      { numRuns: 80 },
    );
    // Every run in range: the shader computed them all, none fell to the CPU twin.
    expect(kernel.computed.cpu).toBe(0);
    expect(kernel.computed.gpu).toBeGreaterThan(80);
    kernel.dispose();
  });

  it('rounds ties to even and signs zeros as the CPU twin does', async () => {
    const kernel = new GpuLoraKernel(await testGpu());
    // r = 1, s = 1: B·A = 2^-24, half an ULP of 1 — a tie: 1 stays, 1 + 2^-23 goes up to 1 + 2^-22.
    const tie: LoraFactors = {
      name: 'tie',
      a: new Float32Array([2 ** -12]),
      b: new Float32Array([2 ** -12, 2 ** -12]),
      r: 1,
      cols: 1,
      scale: 1,
      fanInFanOut: false,
    };
    const tieOut = await kernel.adapt(tie, new Float32Array([1, 1 + 2 ** -23]), 0);
    expect(Array.from(tieOut)).toEqual([1, 1 + 2 ** -22]);
    // Zeros: −0 products sum to −0 and −0 + −0 stays −0; x − x cancels to +0; +0 bases stay +0.
    const zeros: LoraFactors = {
      name: 'zeros',
      a: new Float32Array([0, 0.75, 0, -0.75]),
      b: new Float32Array([-1, -1, 1, 1]),
      r: 2,
      cols: 2,
      scale: 2,
      fanInFanOut: false,
    };
    const w = new Float32Array([-0, -0, 0, -0]);
    const zeroOut = await kernel.adapt(zeros, w, 0);
    expect(Array.from(zeroOut).map((x) => Object.is(x, -0))).toEqual([true, false, false, false]);
    await expectTwin(kernel, tie, new Float32Array([1, 1 + 2 ** -23]), 0);
    await expectTwin(kernel, zeros, w, 0);
    expect(kernel.computed).toMatchObject({ cpu: 0, gpu: 12 });
    kernel.dispose();
  });

  it('tiles a range larger than a binding, over a 2-D dispatch, and uploads A and B once', async () => {
    const gpu = withLimits(await testGpu(), {
      maxStorageBufferBindingSize: 4096, // 1024 elements a tile
      maxComputeWorkgroupsPerDimension: 3, // 4 workgroups a tile: a 3 × 2 dispatch
    });
    const kernel = new GpuLoraKernel(gpu);
    for (const fanInFanOut of [false, true]) {
      const f = factors(61, 97, 5, 16 / 5, fanInFanOut, fanInFanOut ? 11 : 12);
      const w = values(61 * 97, 5);
      await expectTwin(kernel, f, w.subarray(13, 5000), 13);
      await expectTwin(kernel, f, w.subarray(4000, 61 * 97), 4000);
    }
    expect(kernel.computed).toEqual({ gpu: 2 * (4987 + 61 * 97 - 4000), cpu: 0, uploads: 2 });
    kernel.dispose();
  });

  it('takes to the CPU twin, with the same bytes, what it cannot compute exactly', async () => {
    const kernel = new GpuLoraKernel(await testGpu());
    const f = factors(4, 8, 3, 2, false, 3);
    // Base values out of range: subnormal, NaN, ±∞, 2^64; the kernel flags them.
    for (const bad of [2 ** -140, NaN, Infinity, -Infinity, 2 ** 64, -(2 ** -70)]) {
      const w = values(32, 9);
      w[17] = bad;
      const before = kernel.computed.cpu;
      await expectTwin(kernel, f, w, 0);
      expect(kernel.computed.cpu - before).toBe(32);
    }
    // Factors or a scale out of range: never uploaded.
    const tiny = { ...f, name: 'tiny', a: f.a.map((x, i) => (i === 5 ? 2 ** -40 : x)) };
    const huge = { ...f, name: 'huge', b: f.b.map((x, i) => (i === 2 ? 2 ** 31 : x)) };
    const scaled = { ...f, name: 'scaled', scale: 2 ** 21 };
    for (const g of [tiny, huge, scaled]) await expectTwin(kernel, g, values(32, 4), 0);
    expect(kernel.computed).toEqual({ gpu: 0, cpu: 6 * 32 + 3 * 32, uploads: 1 });
    kernel.dispose();
  });
});
