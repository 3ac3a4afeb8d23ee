// What a CPU worker serves: the CPU engine's kernels, with every output handed back by transfer
// (no copy). Exposed by ./node-worker.ts (worker_threads) and ./web-worker.ts (Web Workers).
import { transfer } from 'comlink';
import type { MergeDType } from '../../formats/dtype';
import type { ChunkInput, RawChunk } from '../engine';
import { CpuEngine } from './engine';
import { electCall, type ElectCall, type KernelExports } from './wasm/elect-call';
import { kernelExports } from './wasm/host';

const engine = new CpuEngine();
/** Shared arena memories this thread helps elect in (./wasm/arena.ts), by id. */
const arenas = new Map<number, { memory: WebAssembly.Memory; x: KernelExports }>();
let lastArena = 0;

const kernels = {
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

/** The elect kernel on a shared arena memory, for the calling thread's every other chunk. */
const arenaHelp = {
  async arenaAttach(memory: WebAssembly.Memory): Promise<number> {
    const x = kernelExports(memory, true);
    if (!x) throw new Error('WebAssembly SIMD is not available on the helper thread');
    arenas.set(++lastArena, { memory, x });
    return lastArena;
  },
  async arenaElect(id: number, call: ElectCall) {
    const a = arenas.get(id);
    if (!a) throw new Error(`no arena ${id} on this thread`);
    const r = electCall(a.x, a.memory.buffer, call);
    return transfer(r, [r.sums.buffer, r.nonFinite.buffer]);
  },
  async arenaDetach(id: number): Promise<void> {
    arenas.delete(id);
  },
};

export const kernelServer = { ...kernels, ...arenaHelp };

export type KernelServer = typeof kernelServer;
