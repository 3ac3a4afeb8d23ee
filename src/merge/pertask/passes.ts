// The per-task methods' element-wise passes as a merge engine takes them (../engine.ts): on chunks
// in their stored dtype, the shape of the GPU's programs (src/gpu/programs/pertask.ts). These are
// their CPU twins — the kernels of ./kernels on the widened values — which the CPU engine offers,
// the GPU engine hands the tiles it cannot compute exactly, and a failed GPU falls back to.
import { dtypeBytes, widenToF32 } from '../../formats/dtype';
import type { PerTaskReconstructInput, RawChunk, TallMaskInput, TSwitchBitsInput } from '../engine';
import { maskedReconstruct, tallMask, tSwitchBits, tSwitchReconstruct } from './kernels';
import { denseReconstruct, lowRankReconstruct } from './lowrank';

/** The first `numel` elements of a chunk as f32. */
const widen = (c: RawChunk, numel: number) =>
  widenToF32(c.bytes.subarray(0, numel * dtypeBytes(c.dtype)), c.dtype);

export const reconstructNumel = (x: PerTaskReconstructInput): number =>
  x.mode === 'masked' || x.mode === 'dense' ? x.tau.length : x.numel;

/** tallMask over a chunk: task t's mask words. */
export function tallMaskPass(x: TallMaskInput): Uint32Array {
  const out = new Uint32Array(Math.ceil(x.numel / 32));
  tallMask(widen(x.base, x.numel), widen(x.task, x.numel), x.tau, x.numel, x.lambda, out, 0);
  return out;
}

/** tSwitchBits over a chunk: the keep and sign words. */
export function tSwitchBitsPass(x: TSwitchBitsInput): { keep: Uint32Array; sign: Uint32Array } {
  const keep = new Uint32Array(Math.ceil(x.numel / 32));
  const sign = new Uint32Array(keep.length);
  tSwitchBits(widen(x.base, x.numel), widen(x.task, x.numel), x.numel, x.tp, x.tn, keep, sign);
  return { keep, sign };
}

/** maskedReconstruct / tSwitchReconstruct / TSV-C's over a chunk: the task's f32 weights. */
export function perTaskReconstructPass(x: PerTaskReconstructInput): Float32Array<ArrayBuffer> {
  const base = widen(x.base, reconstructNumel(x));
  switch (x.mode) {
    case 'masked':
      return maskedReconstruct(base, x.tau, x.mask, 0, x.alpha);
    case 'switch':
      return tSwitchReconstruct(base, x.keep, x.sign, 0, x.scale);
    case 'lowrank':
      return lowRankReconstruct(base, x.first, x.cols, x.rank, x.u, x.s, x.vt);
    case 'dense':
      return denseReconstruct(base, x.tau);
  }
}
