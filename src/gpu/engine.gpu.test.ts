// Plan: the shared engine suite (src/merge/testing/engine-suite) for the WebGPU engine, in
// dawn.node and in Chromium: every kernel against its CPU twin (masks, signs, τ_uni and weights bit
// for bit; λ's sums to f32-partial precision) and whole merges against the whole-tensor reference
// (λ within 1e-6), with tiles and 2-D dispatches driven by small forced limits. Then the pipeline:
// tiling leaves the rescalers' sums unchanged, and calls in flight together equal calls one by one.
import { describe, expect, it } from 'vitest';
import type { EmrChunkOut } from '../merge/engine';
import { engineSuite, expectSameEmrChunk, testChunk } from '../merge/testing/engine-suite';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

engineSuite('GPU engine', async (limits) => {
  const gpu = await testGpu();
  return new GpuEngine(limits ? withLimits(gpu, limits) : gpu);
});

describe('GPU engine pipeline', () => {
  it('tiles of whole elect workgroups give the untiled sums bit for bit', async () => {
    const gpu = await testGpu();
    const whole = new GpuEngine(gpu);
    const tiled = new GpuEngine(withLimits(gpu, { maxStorageBufferBindingSize: 3 * 4 * 2048 }));
    const c = testChunk(10_000, 3, 'F32', 21);
    const [a, b] = [await whole.emr(c), await tiled.emr(c)];
    expectSameEmrChunk(b, a);
    expect(Array.from(b.sumAbsTau)).toEqual(Array.from(a.sumAbsTau));
    expect(Array.from(b.sumAbsMasked)).toEqual(Array.from(a.sumAbsMasked));
    whole.dispose();
    tiled.dispose();
  });

  it('calls issued without waiting (two buffer sets in flight) give what they give one at a time', async () => {
    const engine = new GpuEngine(await testGpu());
    const chunks = [5000, 33, 4099, 70_000].map((n, i) => testChunk(n, 4, i % 2 ? 'BF16' : 'F32', n));
    const one: EmrChunkOut[] = [];
    for (const c of chunks) one.push(await engine.emr(c));
    const together = await Promise.all(chunks.map((c) => engine.emr(c)));
    together.forEach((r, i) => expectSameEmrChunk(r, one[i] as EmrChunkOut));
    const avg = await Promise.all(chunks.map((c) => engine.average(c)));
    for (const [i, c] of chunks.entries()) expect(avg[i]).toEqual(await engine.average(c));
    engine.dispose();
  });
});
