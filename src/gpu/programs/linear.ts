// Averaging (mode 0) and Task Arithmetic (mode 1): GPU twin of `averageChunk` and
// `taskArithmeticChunk` (CPU: src/merge/cpu/kernels.ts, run by CpuEngine.average and
// .taskArithmetic). WGSL: shaders/merge/linear.wgsl. A tile with an input out of range — averaging
// also checks the base it does not read for finiteness — goes to the CPU twin, which counts NaN/±∞.
import linearWgsl from '../../../shaders/merge/linear.wgsl?raw';
import type { ChunkInput, LinearChunkOut } from '../../merge/engine';
import { output, uniform, type PassSpec } from '../runtime/pass';
import { addCounts, stitch } from '../runtime/tiles';
import {
  chunkInputs,
  chunkTiles,
  dtypeConstants,
  fitsKernels,
  lambdaInRange,
  mergeShader,
  noneNonFinite,
  type MergeContext,
} from './chunk';

const WORKGROUP_SIZE = 256;
const code = mergeShader(linearWgsl);

type LinearMode = 0 | 1;

function linearPass(chunk: ChunkInput, mode: LinearMode, lambda: number): PassSpec {
  const n = chunk.numel;
  const { base, tasks, stride } = chunkInputs(chunk);
  const params = new ArrayBuffer(32);
  return {
    program: 'linear',
    label: mode ? 'task arithmetic' : 'average',
    code,
    constants: { WORKGROUP_SIZE, MODE: mode, ...dtypeConstants(chunk) },
    workgroups: Math.ceil(n / WORKGROUP_SIZE),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 4).set([n, chunk.tasks.length, stride, gx]);
      new Float32Array(params, 16, 1)[0] = lambda;
      return [uniform('params', params), base, tasks, output('out', n * 4), output('flag', 4, 'zero')];
    },
  };
}

const onCpu = ({ twin }: MergeContext, chunk: ChunkInput, mode: LinearMode, lambda: number) =>
  mode ? twin.taskArithmetic(chunk, lambda) : twin.average(chunk);

export async function linear(
  ctx: MergeContext,
  chunk: ChunkInput,
  mode: LinearMode,
  lambda: number,
): Promise<LinearChunkOut> {
  const numTasks = chunk.tasks.length;
  if (!fitsKernels(chunk) || (mode === 1 && !lambdaInRange(lambda))) return onCpu(ctx, chunk, mode, lambda);
  const tiles = await chunkTiles(ctx.rt, chunk, async (tile, slot) => {
    if (tile.numel === 0) return { merged: new Float32Array(0), nonFinite: noneNonFinite(numTasks) };
    const r = await ctx.rt.run(linearPass(tile, mode, lambda), slot);
    if (r.u32('flag')[0]) return onCpu(ctx, tile, mode, lambda);
    return { merged: r.f32('out'), nonFinite: noneNonFinite(numTasks) };
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  const nonFinite = noneNonFinite(numTasks);
  for (const { out } of tiles) addCounts(nonFinite, out.nonFinite);
  return { merged: stitch(new Float32Array(chunk.numel), tiles, (out) => out.merged), nonFinite };
}
