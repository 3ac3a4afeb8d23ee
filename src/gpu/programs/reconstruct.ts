// EMR's reconstruction, task t's weights θ₀ + λ·(M_t ⊙ τ_uni) in the output dtype: GPU twin of
// `emrReconstruct` (CPU: src/merge/cpu/kernels.ts, run by CpuEngine.emrReconstruct, which narrows
// the same way). WGSL: shaders/merge/emr_reconstruct.wgsl. A λ outside the exact product's range
// sends the call to the CPU twin; an input out of range (the kernel's flag), its tile.
import reconstructWgsl from '../../../shaders/merge/emr_reconstruct.wgsl?raw';
import { dtypeBytes, type MergeDType } from '../../formats/dtype';
import { maskWords } from '../../merge/cpu/kernels';
import type { RawChunk } from '../../merge/engine';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import { stitch } from '../runtime/tiles';
import {
  DTYPE_CODE,
  lambdaInRange,
  mergeShader,
  reconstructTileElements,
  storedBytes,
  type MergeContext,
} from './chunk';

/** Invocations a workgroup: one mask word (32 elements) each. */
const WORKGROUP_SIZE = 64;
const code = mergeShader(reconstructWgsl);

/** One tile's inputs: τ_uni's length is its element count; the mask from word `maskOffsetWords`. */
export interface ReconstructInput {
  readonly base: RawChunk;
  readonly tauUni: Float32Array;
  readonly mask: Uint32Array;
  readonly maskOffsetWords: number;
  readonly lambda: number;
  readonly dtype: MergeDType;
}

function reconstructPass(x: ReconstructInput): PassSpec {
  const n = x.tauUni.length;
  const words = maskWords(n);
  const params = new ArrayBuffer(16);
  const mask = x.mask.subarray(x.maskOffsetWords, x.maskOffsetWords + words);
  // Every binding spans whole mask words: the kernel reads and writes 32 elements at a time.
  const whole = (bytesPerElement: number) => Math.max(1, words) * 32 * bytesPerElement;
  return {
    program: 'reconstruct',
    label: 'emr reconstruct',
    code,
    constants: { WORKGROUP_SIZE, BASE_DTYPE: DTYPE_CODE[x.base.dtype], OUT_DTYPE: DTYPE_CODE[x.dtype] },
    workgroups: Math.max(1, Math.ceil(words / WORKGROUP_SIZE)), // one invocation per mask word
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 2).set([n, gx]);
      new Float32Array(params, 8, 1)[0] = x.lambda;
      return [
        uniform('params', params),
        input('base', storedBytes(x.base, n), whole(dtypeBytes(x.base.dtype))),
        input('tau', x.tauUni.subarray(0, n), whole(4)),
        input('mask', mask),
        output('out', whole(dtypeBytes(x.dtype))),
        output('flag', 4, 'zero'),
      ];
    },
  };
}

const onCpu = ({ twin }: MergeContext, x: ReconstructInput) =>
  twin.emrReconstruct(x.base, x.tauUni, x.mask, x.maskOffsetWords, x.lambda, x.dtype);

export async function reconstruct(ctx: MergeContext, x: ReconstructInput): Promise<Uint8Array<ArrayBuffer>> {
  const n = x.tauUni.length;
  if (n === 0) return new Uint8Array(0);
  if (!lambdaInRange(x.lambda)) return onCpu(ctx, x);
  const size = dtypeBytes(x.dtype);
  const baseSize = dtypeBytes(x.base.dtype);
  const tiles = await ctx.rt.tiles(n, reconstructTileElements(ctx.rt), async (start, end, slot) => {
    const whole = start === 0 && end === n;
    const tile: ReconstructInput = whole
      ? x
      : {
          ...x,
          base: { bytes: x.base.bytes.subarray(start * baseSize, end * baseSize), dtype: x.base.dtype },
          tauUni: x.tauUni.subarray(start, end),
          maskOffsetWords: x.maskOffsetWords + start / 32,
        };
    const r = await ctx.rt.run(reconstructPass(tile), slot);
    return r.u32('flag')[0] ? onCpu(ctx, tile) : r.bytes('out', (end - start) * size);
  });
  if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
  return stitch(new Uint8Array(n * size), tiles, (out) => out, size);
}

/**
 * The benchmark's view of the reconstruction kernel alone: one tile (binding-sized at most) of
 * task 0's weights uploaded once on resident buffers, and what encodes its dispatch on them.
 */
export function residentReconstruct(
  { rt }: MergeContext,
  x: ReconstructInput,
): { encode(pass: GPUComputePassEncoder): void; inputBytes: number } {
  const n = Math.min(x.tauUni.length, reconstructTileElements(rt));
  const tile = { ...x, tauUni: x.tauUni.subarray(0, n) };
  const { encode } = rt.resident(reconstructPass(tile), '#resident');
  return { inputBytes: n * (dtypeBytes(x.base.dtype) + 4) + maskWords(n) * 4, encode };
}
