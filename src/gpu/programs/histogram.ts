// TIES's radix histogram of |τ_t| (level 0: the high 16 bits of |τ_t|'s f32 pattern; level 1: the
// low 16 bits under a prefix): GPU twin of `absHistogramChunk` (CPU: src/merge/cpu/kernels.ts, run
// by CpuEngine.absHistogram). WGSL: shaders/merge/abs_histogram.wgsl. A tile with an input out of
// range is counted by the CPU twin; a chunk is counted whole before anything is added to `counts`,
// so a failure never leaves part of it there.
import histogramWgsl from '../../../shaders/merge/abs_histogram.wgsl?raw';
import type { ChunkInput } from '../../merge/engine';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { addCounts } from '../runtime/tiles';
import {
  chunkInputs,
  chunkTiles,
  dtypeConstants,
  fitsKernels,
  mergeShader,
  type MergeContext,
} from './chunk';

const WORKGROUP_SIZE = 256;
const BINS = 65536;
const code = mergeShader(histogramWgsl);

function histogramPass(chunk: ChunkInput, level: 0 | 1, prefix: Uint32Array | undefined): PassSpec {
  const numTasks = chunk.tasks.length;
  const { base, tasks, stride } = chunkInputs(chunk);
  return {
    program: 'histogram',
    label: 'abs histogram',
    code,
    constants: { WORKGROUP_SIZE, LEVEL: level, ...dtypeConstants(chunk) },
    workgroups: Math.max(1, Math.ceil(chunk.numel / WORKGROUP_SIZE)),
    bindings: ([gx]) => [
      uniform('params', new Uint32Array([chunk.numel, numTasks, stride, gx])),
      base,
      tasks,
      input('prefix', prefix ?? new Uint32Array(numTasks), numTasks * 4),
      output('counts', numTasks * BINS * 4, 'zero'),
      output('flag', 4, 'zero'),
    ],
  };
}

export async function histogram(
  { rt, twin }: MergeContext,
  chunk: ChunkInput,
  level: 0 | 1,
  prefix: Uint32Array | undefined,
  counts: Uint32Array,
): Promise<void> {
  if (!fitsKernels(chunk)) return twin.absHistogram(chunk, level, prefix, counts);
  const tiles = await chunkTiles(rt, chunk, async (tile, slot) => {
    const r = await rt.run(histogramPass(tile, level, prefix), slot);
    if (!r.u32('flag')[0]) return r.u32('counts');
    const counted = new Uint32Array(counts.length);
    await twin.absHistogram(tile, level, prefix, counted);
    return counted;
  });
  for (const { out } of tiles) addCounts(counts, out);
}
