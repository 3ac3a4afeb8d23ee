// What a CPU worker serves: the CPU engine's kernels, with every output handed back by transfer
// (no copy). Exposed by ./node-worker.ts (worker_threads) and ./web-worker.ts (Web Workers).
import { transfer } from 'comlink';
import type { MergeDType } from '../../formats/dtype';
import type { ChunkInput, RawChunk } from '../engine';
import { CpuEngine } from './engine';

const engine = new CpuEngine();

export const kernelServer = {
  async emr(chunk: ChunkInput) {
    const r = await engine.emr(chunk);
    return transfer(r, [
      r.tauUni.buffer,
      r.masks.buffer,
      r.sumAbsTau.buffer,
      r.sumAbsMasked.buffer,
      r.nonFinite.buffer,
    ]);
  },
  async emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    lambda: number,
    dtype: MergeDType,
  ) {
    const r = await engine.emrReconstruct(base, tauUni, mask, 0, lambda, dtype);
    return transfer(r, [r.buffer]);
  },
  async average(chunk: ChunkInput) {
    const r = await engine.average(chunk);
    return transfer(r, [r.merged.buffer, r.nonFinite.buffer]);
  },
  async taskArithmetic(chunk: ChunkInput, lambda: number) {
    const r = await engine.taskArithmetic(chunk, lambda);
    return transfer(r, [r.merged.buffer, r.nonFinite.buffer]);
  },
  async absHistogram(chunk: ChunkInput, level: 0 | 1, prefix: Uint32Array | undefined) {
    const counts = new Uint32Array(chunk.tasks.length * 65536);
    await engine.absHistogram(chunk, level, prefix, counts);
    return transfer(counts, [counts.buffer]);
  },
  async ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number) {
    const r = await engine.ties(chunk, thresholds, lambda);
    return transfer(r, [r.merged.buffer, r.nonFinite.buffer]);
  },
};

export type KernelServer = typeof kernelServer;
