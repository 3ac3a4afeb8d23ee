// The CPU reference engine: widens each chunk to f32 and runs the kernels of ./kernels.
import { widenToF32 } from '../../formats/dtype';
import type { ChunkInput, MergeEngine, RawChunk } from '../engine';
import * as k from './kernels';

function widen(c: RawChunk): Float32Array {
  return widenToF32(c.bytes, c.dtype);
}

/** The N task chunks back to back, as the kernels (and the GPU) expect them. */
function packTasks(chunk: ChunkInput): Float32Array {
  const n = chunk.numel;
  const out = new Float32Array(n * chunk.tasks.length);
  chunk.tasks.forEach((t, i) => out.set(widen(t), i * n));
  return out;
}

export class CpuEngine implements MergeEngine {
  readonly kind = 'cpu' as const;
  readonly description = 'CPU (reference engine)';

  async emr(chunk: ChunkInput) {
    return k.emrChunk(widen(chunk.base), packTasks(chunk), chunk.numel, chunk.tasks.length);
  }
  async emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
  ) {
    return k.emrReconstruct(widen(base), tauUni, mask, maskOffsetWords, lambda);
  }
  async average(chunk: ChunkInput) {
    return k.averageChunk(packTasks(chunk), chunk.numel, chunk.tasks.length);
  }
  async taskArithmetic(chunk: ChunkInput, lambda: number) {
    return k.taskArithmeticChunk(
      widen(chunk.base),
      packTasks(chunk),
      chunk.numel,
      chunk.tasks.length,
      lambda,
    );
  }
  async absHistogram(chunk: ChunkInput, level: 0 | 1, prefix: Uint32Array | undefined, counts: Uint32Array) {
    k.absHistogramChunk(
      widen(chunk.base),
      packTasks(chunk),
      chunk.numel,
      chunk.tasks.length,
      level,
      prefix,
      counts,
    );
  }
  async ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number) {
    return k.tiesChunk(
      widen(chunk.base),
      packTasks(chunk),
      chunk.numel,
      chunk.tasks.length,
      thresholds,
      lambda,
    );
  }
  dispose(): void {}
}
