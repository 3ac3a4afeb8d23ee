// Plan: the elect kernel's two variants — with 'subgroups' (the conflict count reduced per
// subgroup) and the fallback — give the same bits: τ_uni, masks, the rescalers' sums, the
// conflicts, and an out-of-range tile sent to the CPU twin, in dawn.node and in Chromium. The
// engine takes the subgroups variant exactly where the device has the feature (SwiftShader exposes
// it in dawn.node), and the fallback where it does not: its WGSL then never enables subgroups.
import { describe, expect, it, vi } from 'vitest';
import type { EmrChunkOut } from '../merge/engine';
import { testChunk } from '../merge/testing/engine-suite';
import type { Gpu } from './device';
import { GpuEngine } from './engine';
import { testGpu } from './testing/gpu';

const bits = (a: Float32Array | Float64Array) =>
  Array.from(new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4));

const expectSameBits = (a: EmrChunkOut, b: EmrChunkOut) => {
  expect(bits(a.tauUni)).toEqual(bits(b.tauUni));
  expect(Array.from(a.masks)).toEqual(Array.from(b.masks));
  expect(bits(a.sumAbsTau)).toEqual(bits(b.sumAbsTau));
  expect(bits(a.sumAbsMasked)).toEqual(bits(b.sumAbsMasked));
  expect(a.conflicts).toBe(b.conflicts);
  expect(Array.from(a.nonFinite)).toEqual(Array.from(b.nonFinite));
};

/** The same device, reported without the optional features (as on an adapter that lacks them). */
const withoutFeatures = (gpu: Gpu): Gpu => ({ device: gpu.device, info: { ...gpu.info, features: [] } });

describe('elect kernel: subgroups and fallback', () => {
  it('uses subgroups exactly where the device has them, and both variants give the same bits', async () => {
    const gpu = await testGpu();
    const has = gpu.info.features.includes('subgroups');
    console.info(`${gpu.info.name}: 'subgroups' ${has ? 'present' : 'absent'}`);
    const withSubgroups = new GpuEngine(gpu);
    const fallback = new GpuEngine(gpu, false, { subgroups: false });
    expect(withSubgroups.usesSubgroups).toBe(has);
    expect(fallback.usesSubgroups).toBe(false);
    const out = testChunk(4099, 3, 'F32', 7);
    new Float32Array(out.base.bytes.buffer, out.base.bytes.byteOffset, 4099)[5] = 2 ** -70; // out of range
    for (const c of [
      testChunk(10_007, 5, 'F32', 3),
      testChunk(777, 8, 'BF16', 4),
      testChunk(33, 2, 'F16', 5),
      out,
    ]) {
      const [a, b] = [await withSubgroups.emr(c), await fallback.emr(c)];
      expectSameBits(a, b);
      expect(a.conflicts).toBeGreaterThan(0);
    }
    withSubgroups.dispose();
    fallback.dispose();
  });

  it('takes the fallback on a device without subgroups: no module enables them, the same bits', async () => {
    const gpu = await testGpu();
    const spy = vi.spyOn(gpu.device, 'createShaderModule');
    const engine = new GpuEngine(withoutFeatures(gpu));
    expect(engine.usesSubgroups).toBe(false);
    const c = testChunk(5000, 4, 'F32', 11);
    const got = await engine.emr(c);
    const codes = spy.mock.calls.map(([d]) => d.code);
    spy.mockRestore();
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.some((code) => code.includes('enable subgroups'))).toBe(false);
    const reference = new GpuEngine(gpu);
    expectSameBits(got, await reference.emr(c));
    engine.dispose();
    reference.dispose();
  });
});
