// Plan: the shared engine suite (src/merge/testing/engine-suite) for the WebGPU engine, in
// dawn.node and in Chromium: every kernel against its CPU twin (masks, signs, τ_uni and weights bit
// for bit; λ's sums to f32-partial precision) and whole merges against the whole-tensor reference
// (λ within 1e-6), with tiles and 2-D dispatches driven by small forced limits.
import { engineSuite } from '../merge/testing/engine-suite';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

engineSuite('GPU engine', async (limits) => {
  const gpu = await testGpu();
  return new GpuEngine(limits ? withLimits(gpu, limits) : gpu);
});
