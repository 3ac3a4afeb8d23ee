// mergekit's generalized task arithmetic, element-wise end: GPU twin of `gtaMix`
// (CPU: src/merge/mergekit/gta-mix.ts). WGSL: shaders/merge/task_sum.wgsl and shaders/merge/gta_mix.wgsl. The host sparsifies and
// weighs each task vector (top-k thresholds, ranks, the seeded drops and the L1 rescale stay on the
// CPU: ../../merge/mergekit/kernels.ts) and hands the δ_t here; the consensus, the weighted sums,
// `normalize` and λ run per element. Weights or λ outside the exact range (exact.wgsl) send the
// call to the CPU twin; an input or a step out of range (the kernel's flag), its tile.
import gtaMixWgsl from '../../../shaders/merge/gta_mix.wgsl?raw';
import taskSumWgsl from '../../../shaders/merge/task_sum.wgsl?raw';
import type { ChunkInput } from '../../merge/engine';
import { totalWeight, type GtaMixInput } from '../../merge/mergekit/gta-mix';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { stitch } from '../runtime/tiles';
import { chunkInputs, lambdaInRange, mergeShader, MAX_GPU_TASKS, type MergeContext } from './chunk';

const WORKGROUP_SIZE = 256;
const code = mergeShader(taskSumWgsl + gtaMixWgsl);

/** Weights the kernel sums and divides by exactly: 0 or 2^-20 ≤ |w| ≤ 2^20 as f32 (as λ). */
const weightsInRange = (weights: readonly number[]) => weights.every(lambdaInRange);

function mixPass(chunk: ChunkInput, x: GtaMixInput): PassSpec {
  const n = chunk.numel;
  const { base, tasks, stride } = chunkInputs(chunk);
  const params = new ArrayBuffer(32);
  const weights = Float32Array.from(x.weights);
  return {
    program: 'gta-mix',
    label: 'mergekit mix',
    code,
    constants: {
      WORKGROUP_SIZE,
      CONSENSUS: +x.consensus,
      NORMALIZE: +x.normalize,
      SCALE: +(x.lambda !== 1),
    },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 4).set([n, x.weighted.length, stride, gx]);
      new Float32Array(params, 16, 2).set([x.lambda, totalWeight(x.weights)]);
      return [
        uniform('params', params),
        base,
        tasks,
        input('weights', weights, Math.max(4, weights.byteLength)),
        output('out', n * 4),
        output('flag', 4, 'zero'),
      ];
    },
  };
}

const f32Chunk = (x: GtaMixInput): ChunkInput => ({
  numel: x.base.length,
  base: { bytes: new Uint8Array(x.base.buffer, x.base.byteOffset, x.base.byteLength), dtype: 'F32' },
  tasks: x.weighted.map((w) => ({
    bytes: new Uint8Array(w.buffer, w.byteOffset, w.byteLength),
    dtype: 'F32',
  })),
});

/** The tile [start, end) of a mix input (views, no copy). */
const cut = (x: GtaMixInput, start: number, end: number): GtaMixInput => ({
  ...x,
  base: x.base.subarray(start, end),
  weighted: x.weighted.map((w) => w.subarray(start, end)),
});

export async function gtaMix(ctx: MergeContext, x: GtaMixInput): Promise<Float32Array> {
  const n = x.base.length;
  if (n === 0 || x.weighted.length > MAX_GPU_TASKS || !weightsInRange(x.weights) || !lambdaInRange(x.lambda))
    return ctx.twin.gtaMix(x);
  // One f32 word per task and element in the largest binding; tiles of whole 2048-element spans.
  const limit = ctx.rt.tileElements(Math.max(4, x.weighted.length * 4), 2048);
  const tiles = await ctx.rt.tiles(n, limit, async (start, end, slot) => {
    const part = cut(x, start, end);
    const r = await ctx.rt.run(mixPass(f32Chunk(part), part), slot);
    return r.u32('flag')[0] ? ctx.twin.gtaMix(part) : r.f32('out').slice();
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Float32Array(n), tiles, (out) => out);
}
