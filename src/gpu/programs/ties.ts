// TIES's trimmed election and disjoint mean: GPU twin of `tiesChunk` (CPU: src/merge/cpu/kernels.ts,
// run by CpuEngine.ties). WGSL: shaders/merge/ties.wgsl. Elements whose trimmed sum is exactly 0
// come back as a pending bit with both candidate values (`out` if the majority is not positive,
// `alt` if it is). λ or thresholds outside the exact range send the call to the CPU twin; an input
// out of range (the kernel's flag), its tile.
import tiesWgsl from '../../../shaders/merge/ties.wgsl?raw';
import { maskWords } from '../../merge/cpu/kernels';
import type { ChunkInput, TiesChunkOut } from '../../merge/engine';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
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

const WORKGROUP_SIZE = 64;
const code = mergeShader(tiesWgsl);

/** TIES thresholds the kernel compares with exactly on any device: finite, 0 or normal. */
function thresholdsInRange(thresholds: Float32Array): boolean {
  return thresholds.every((x) => x === 0 || (Math.abs(x) >= 2 ** -126 && Math.abs(x) < Infinity));
}

function tiesPass(chunk: ChunkInput, thresholds: Float32Array, lambda: number): PassSpec {
  const n = chunk.numel;
  const numTasks = chunk.tasks.length;
  const words = maskWords(n);
  const { base, tasks, stride } = chunkInputs(chunk);
  const params = new ArrayBuffer(32);
  return {
    program: 'ties',
    code,
    constants: { WORKGROUP_SIZE, ...dtypeConstants(chunk) },
    workgroups: Math.max(1, Math.ceil(words / WORKGROUP_SIZE)),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 4).set([n, numTasks, stride, gx]);
      new Float32Array(params, 16, 1)[0] = lambda;
      return [
        uniform('params', params),
        base,
        tasks,
        input('thresholds', thresholds.slice(0, numTasks), numTasks * 4),
        output('out', n * 4),
        output('alt', n * 4),
        output('pending', words * 4),
        output('totals', 8, 'zero'), // Σ signs, out of range
      ];
    },
  };
}

async function tiesTile(
  { rt, twin }: MergeContext,
  tile: ChunkInput,
  t: Float32Array,
  lambda: number,
  slot: string,
) {
  const r = await rt.run(tiesPass(tile, t, lambda), slot);
  const [signSum, outOfRange] = r.i32('totals');
  if (outOfRange) return twin.ties(tile, t, lambda);
  const merged = r.f32('out');
  const alt = r.f32('alt');
  const pending: TiesChunkOut['pending'][number][] = [];
  r.u32('pending').forEach((word, w) => {
    for (let bits = word; bits !== 0; bits &= bits - 1) {
      const index = w * 32 + 31 - Math.clz32(bits & -bits);
      pending.push({ index, ifPositive: alt[index] as number, ifNotPositive: merged[index] as number });
    }
  });
  const out: TiesChunkOut = {
    merged: merged.slice(),
    signSum: signSum as number,
    pending,
    nonFinite: noneNonFinite(tile.tasks.length),
  };
  return out;
}

export async function ties(
  ctx: MergeContext,
  chunk: ChunkInput,
  thresholds: Float32Array,
  lambda: number,
): Promise<TiesChunkOut> {
  if (!fitsKernels(chunk) || !lambdaInRange(lambda) || !thresholdsInRange(thresholds))
    return ctx.twin.ties(chunk, thresholds, lambda);
  const tiles = await chunkTiles(ctx.rt, chunk, (tile, slot) =>
    tiesTile(ctx, tile, thresholds, lambda, slot),
  );
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  const pending: TiesChunkOut['pending'][number][] = [];
  const nonFinite = noneNonFinite(chunk.tasks.length);
  let signSum = 0;
  for (const { start, out } of tiles) {
    signSum += out.signSum;
    for (const q of out.pending) pending.push({ ...q, index: q.index + start });
    addCounts(nonFinite, out.nonFinite);
  }
  const merged = stitch(new Float32Array(chunk.numel), tiles, (out) => out.merged);
  return { merged, signSum, pending, nonFinite };
}
