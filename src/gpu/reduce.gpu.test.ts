// Plan: the GPU sum (partial_sums.wgsl + f64 host add) against its CPU twin, on the sizes that find
// reduction bugs (0, 1, around the subgroup/workgroup/tile edges, a prime), with signed values,
// |x| mode, NaN and -0, and with forced small limits so the 2-D dispatch and the piecewise upload
// over several bindings run on small inputs. Runs in Node (dawn.node) and in Chromium.
import { describe, expect, it } from 'vitest';
import { cpuSum } from '../merge/cpu/sum';
import { dispatchShape, gpuSum, SUM_ITEMS_PER_THREAD, SUM_WORKGROUP_SIZE } from './reduce';
import { testGpu, withLimits } from './testing/gpu';

/** Deterministic values in [-1, 1) from a 32-bit LCG, so every run checks the same numbers. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Each element passes through at most ITEMS_PER_THREAD + log2(WORKGROUP_SIZE) f32 additions. */
function bound(data: Float32Array): number {
  const depth = SUM_ITEMS_PER_THREAD + Math.log2(SUM_WORKGROUP_SIZE);
  return depth * 2 ** -24 * cpuSum(data, true) + Number.MIN_VALUE;
}

describe('gpuSum', () => {
  it('runs on a WebGPU adapter', async () => {
    const gpu = await testGpu();
    expect(gpu.info.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
  });

  const tile = SUM_WORKGROUP_SIZE * SUM_ITEMS_PER_THREAD;
  const sizes = [0, 1, 31, 32, 33, 63, 64, 65, 255, 256, 257, tile - 1, tile, tile + 1, 4099, 100_003];
  for (const n of sizes) {
    for (const absolute of [false, true]) {
      it(`n=${n} ${absolute ? '|x|' : 'x'} matches the CPU twin`, async () => {
        const gpu = await testGpu();
        const data = values(n, n + 7);
        const got = await gpuSum(gpu, data, { absolute });
        const want = cpuSum(data, absolute);
        expect(Math.abs(got - want)).toBeLessThanOrEqual(bound(data));
      });
    }
  }

  it('2-D dispatch when workgroups exceed the per-dimension limit', async () => {
    const gpu = withLimits(await testGpu(), { maxComputeWorkgroupsPerDimension: 3 });
    const data = values(tile * 7 + 5, 11); // 8 workgroups on a 3×3 grid, one idle
    expect(dispatchShape(8, 3)).toEqual([3, 3]);
    const got = await gpuSum(gpu, data);
    expect(Math.abs(got - cpuSum(data))).toBeLessThanOrEqual(bound(data));
  });

  it('inputs larger than one binding go up in pieces', async () => {
    const gpu = withLimits(await testGpu(), { maxStorageBufferBindingSize: tile * 4 * 2 });
    const data = values(tile * 5 + 3, 13); // 3 pieces
    const got = await gpuSum(gpu, data);
    expect(Math.abs(got - cpuSum(data))).toBeLessThanOrEqual(bound(data));
  });

  it('an explicit piece size tiles the same way', async () => {
    const gpu = await testGpu();
    const data = values(10_000, 17);
    const got = await gpuSum(gpu, data, { maxPieceElements: tile });
    expect(Math.abs(got - cpuSum(data))).toBeLessThanOrEqual(bound(data));
  });

  it('NaN propagates and -0 sums to zero', async () => {
    const gpu = await testGpu();
    expect(await gpuSum(gpu, new Float32Array([-0, -0, -0]))).toBe(0);
    expect(await gpuSum(gpu, new Float32Array([1, Number.NaN, 2]))).toBeNaN();
    expect(cpuSum(new Float32Array([1, Number.NaN, 2]))).toBeNaN();
  });

  it('refuses a dispatch larger than the square of the limit', () => {
    expect(() => dispatchShape(10, 3)).toThrow(RangeError);
  });
});
