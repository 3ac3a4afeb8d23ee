// The CPU reference engine: widens each chunk to f32 and runs the kernels of ./kernels.
import { narrowFromF32, widenToF32, type MergeDType } from '../../formats/dtype';
import type { ChunkInput, MergeEngine, RawChunk } from '../engine';
import * as k from './kernels';

/** f32 values of a chunk: a view when the bytes are aligned f32 (the kernels never write inputs). */
function widen(c: RawChunk): Float32Array {
  const { bytes } = c;
  if (c.dtype === 'F32' && bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return widenToF32(bytes, c.dtype);
}

const tasksOf = (chunk: ChunkInput) => chunk.tasks.map(widen);

export class CpuEngine implements MergeEngine {
  readonly kind = 'cpu' as const;
  readonly description = 'CPU (reference engine)';

  async emr(chunk: ChunkInput) {
    return k.emrChunk(widen(chunk.base), tasksOf(chunk), chunk.numel);
  }
  async emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ) {
    return narrowFromF32(k.emrReconstruct(widen(base), tauUni, mask, maskOffsetWords, lambda), dtype);
  }
  async average(chunk: ChunkInput) {
    return k.averageChunk(tasksOf(chunk), chunk.numel);
  }
  async taskArithmetic(chunk: ChunkInput, lambda: number) {
    return k.taskArithmeticChunk(widen(chunk.base), tasksOf(chunk), chunk.numel, lambda);
  }
  async absHistogram(chunk: ChunkInput, level: 0 | 1, prefix: Uint32Array | undefined, counts: Uint32Array) {
    k.absHistogramChunk(widen(chunk.base), tasksOf(chunk), chunk.numel, level, prefix, counts);
  }
  async ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number) {
    return k.tiesChunk(widen(chunk.base), tasksOf(chunk), chunk.numel, thresholds, lambda);
  }
  dispose(): void {}
}
