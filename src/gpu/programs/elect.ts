// EMR's fused elect/mask pass: GPU twin of `emrChunk` (CPU: src/merge/cpu/kernels.ts, run by
// CpuEngine.emr). WGSL: shaders/merge/emr_elect.wgsl. Per tile: τ_uni, the N masks, per-mask-word
// f32 partials of Σ|τ_t| and Σ|M_t ⊙ τ_uni| (added here in word order in f64, so the sums are the
// same whatever the tiling), the conflicts, and an out-of-range flag that sends the tile to the
// CPU twin. Two variants of one kernel, the same bits: with 'subgroups' where the device has it
// (the conflict count added per subgroup: one atomic a subgroup), else one atomic an invocation.
import electWgsl from '../../../shaders/merge/emr_elect.wgsl?raw';
import totalsWgsl from '../../../shaders/merge/emr_elect_totals.wgsl?raw';
import totalsSubgroupsWgsl from '../../../shaders/merge/emr_elect_totals_subgroups.wgsl?raw';
import { maskWords } from '../../merge/cpu/kernels';
import type { ChunkInput, EmrChunkOut } from '../../merge/engine';
import { output, uniform, type PassSpec } from '../runtime/pass';
import { addCounts, stitch } from '../runtime/tiles';
import {
  chunkInputs,
  chunkTiles,
  dtypeConstants,
  MAX_GPU_TASKS,
  mergeShader,
  noneNonFinite,
  taskDtype,
  type MergeContext,
} from './chunk';

/** Invocations a workgroup (emr_elect.wgsl's WORKGROUP_SIZE): one mask word each. */
const WORKGROUP_SIZE = 64;
const plainCode = mergeShader(electWgsl + totalsWgsl);
const subgroupsCode = `enable subgroups;\n${mergeShader(electWgsl + totalsSubgroupsWgsl)}`;

/** The elect kernel's module: the subgroups variant where the device has the feature (and it is not turned off). */
export function electCode(features: ReadonlySet<GPUFeatureName>, useSubgroups = true): string {
  return useSubgroups && features.has('subgroups') ? subgroupsCode : plainCode;
}

/** A tile as the GPU gives it: per-mask-word f32 partials (|τ_t|, |M_t ⊙ τ_uni|) per task. */
interface ElectTile {
  readonly tauUni: Float32Array<ArrayBuffer>;
  readonly masks: Uint32Array<ArrayBuffer>;
  readonly partials: Float32Array;
  readonly conflicts: number;
}

function electPass(chunk: ChunkInput, code: string): PassSpec {
  const n = chunk.numel;
  const numTasks = chunk.tasks.length;
  const words = maskWords(n);
  const { base, tasks, stride } = chunkInputs(chunk, true);
  return {
    program: 'elect',
    label: 'emr elect',
    code,
    constants: { WORKGROUP_SIZE, ...dtypeConstants(chunk) },
    workgroups: Math.max(1, Math.ceil(words / WORKGROUP_SIZE)),
    bindings: ([gx]) => [
      uniform('params', new Uint32Array([n, numTasks, stride, gx])),
      base,
      tasks,
      output('tau', Math.max(1, words) * 32 * 4), // whole mask words (vec4 stores)
      output('masks', numTasks * words * 4),
      output('partials', Math.max(1, words) * numTasks * 2 * 4), // per mask word
      output('totals', 8, 'zero'), // conflicts, out of range
    ],
  };
}

async function electTile({ rt, twin, subgroups }: MergeContext, tile: ChunkInput, slot: string) {
  const r = await rt.run(electPass(tile, electCode(rt.features, subgroups)), slot);
  const [conflicts, outOfRange] = r.u32('totals');
  if (outOfRange) return twin.emr(tile);
  const out: ElectTile = {
    tauUni: r.f32('tau').subarray(0, tile.numel),
    masks: r.u32('masks'),
    partials: r.f32('partials').subarray(0, maskWords(tile.numel) * tile.tasks.length * 2),
    conflicts: conflicts as number,
  };
  return out;
}

export async function elect(ctx: MergeContext, chunk: ChunkInput): Promise<EmrChunkOut> {
  const numTasks = chunk.tasks.length;
  if (numTasks > MAX_GPU_TASKS)
    throw new RangeError(`the GPU engine merges up to ${MAX_GPU_TASKS} tasks at once; got ${numTasks}`);
  const dtype = taskDtype(chunk);
  if (chunk.tasks.some((t) => t.dtype !== dtype)) return ctx.twin.emr(chunk); // mixed dtypes: rare
  const tiles = await chunkTiles(ctx.rt, chunk, (tile, slot) => electTile(ctx, tile, slot));
  const sumAbsTau = new Float64Array(numTasks);
  const sumAbsMasked = new Float64Array(numTasks);
  const nonFinite = noneNonFinite(numTasks);
  let conflicts = 0;
  // In word order across tiles: the same f64 sums whatever the tiling.
  for (const { out: r } of tiles) {
    if ('nonFinite' in r) addCounts(nonFinite, r.nonFinite);
    const partials = 'partials' in r ? r.partials : interleave(r.sumAbsTau, r.sumAbsMasked);
    for (let i = 0; i < partials.length; i += 2) {
      const t = (i / 2) % numTasks;
      sumAbsTau[t] = (sumAbsTau[t] as number) + (partials[i] as number);
      sumAbsMasked[t] = (sumAbsMasked[t] as number) + (partials[i + 1] as number);
    }
    conflicts += r.conflicts;
  }
  const first = (tiles[0] as (typeof tiles)[number]).out;
  if (tiles.length === 1) return { ...pick(first), sumAbsTau, sumAbsMasked, conflicts, nonFinite };
  const totalWords = maskWords(chunk.numel);
  const masks = new Uint32Array(numTasks * totalWords);
  for (const { start, end, out } of tiles) {
    const w = maskWords(end - start);
    for (let t = 0; t < numTasks; t++)
      masks.set(out.masks.subarray(t * w, (t + 1) * w), t * totalWords + start / 32);
  }
  const tauUni = stitch(new Float32Array(chunk.numel), tiles, (r) => r.tauUni);
  return { tauUni, masks, sumAbsTau, sumAbsMasked, conflicts, nonFinite };
}

const pick = (r: ElectTile | EmrChunkOut) => ({ tauUni: r.tauUni, masks: r.masks });

/** A CPU tile's sums as one word's partials: (|τ_t|, |M_t ⊙ τ_uni|) per task. */
function interleave(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length * 2);
  a.forEach((x, t) => ((out[2 * t] = x), (out[2 * t + 1] = b[t] as number)));
  return out;
}

/**
 * The benchmark's view of the elect kernel alone: one tile (binding-sized at most) uploaded once
 * on resident buffers, and what encodes its dispatch on them.
 */
export function residentElect(
  { rt, subgroups }: MergeContext,
  chunk: ChunkInput,
): { encode(pass: GPUComputePassEncoder): void; inputBytes: number } {
  const { encode } = rt.resident(electPass(chunk, electCode(rt.features, subgroups)), '#resident');
  return {
    inputBytes: chunk.base.bytes.byteLength + chunk.tasks.reduce((a, t) => a + t.bytes.byteLength, 0),
    encode,
  };
}
