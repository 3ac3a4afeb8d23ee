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
  wordBytes,
  type MergeContext,
} from './chunk';

const WORKGROUP_SIZE = 256;
const code = mergeShader(reconstructWgsl);

/** One tile's inputs: τ_uni's length is its element count; the mask from word `maskOffsetWords`. */
interface ReconstructInput {
  readonly base: RawChunk;
  readonly tauUni: Float32Array;
  readonly mask: Uint32Array;
  readonly maskOffsetWords: number;
  readonly lambda: number;
  readonly dtype: MergeDType;
}

function reconstructPass(x: ReconstructInput): PassSpec {
  const n = x.tauUni.length;
  const outWords = Math.ceil((n * dtypeBytes(x.dtype)) / 4);
  const params = new ArrayBuffer(16);
  const mask = x.mask.subarray(x.maskOffsetWords, x.maskOffsetWords + maskWords(n));
  return {
    program: 'reconstruct',
    label: 'emr reconstruct',
    code,
    constants: { WORKGROUP_SIZE, BASE_DTYPE: DTYPE_CODE[x.base.dtype], OUT_DTYPE: DTYPE_CODE[x.dtype] },
    workgroups: Math.ceil(outWords / WORKGROUP_SIZE), // one invocation per output word
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 2).set([n, gx]);
      new Float32Array(params, 8, 1)[0] = x.lambda;
      return [
        uniform('params', params),
        input('base', storedBytes(x.base, n), wordBytes(n, x.base.dtype)),
        input('tau', x.tauUni.subarray(0, n)),
        input('mask', mask),
        output('out', outWords * 4),
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
