// The CPU engine spread over workers: each chunk is split into element ranges (multiples of 32, so
// mask words stay whole), one per worker, and the pieces are joined — the same results as the
// single-threaded engine, bit for bit, since every element is computed by the same kernel and the
// per-task sums are added in f64 in range order. Small chunks stay on the calling thread, where
// the copy to a worker would cost more than the work.
import { transfer, type Remote } from 'comlink';
import { dtypeBytes, type MergeDType } from '../../formats/dtype';
import type {
  ChunkInput,
  EmrChunkOut,
  EmrInputViews,
  LinearChunkOut,
  MergeEngine,
  RawChunk,
  TiesChunkOut,
} from '../engine';
import { CpuEngine } from './engine';
import type { ArenaTensor, EmrArena } from '../emr-arena';
import type { ArenaHelper } from './wasm/arena';
import type { KernelServer } from './kernel-server';
import { maskWords } from './kernels';

/** Below this many elements a chunk is not split. */
export const MIN_PARALLEL_ELEMENTS = 1 << 16;

interface Range {
  readonly start: number;
  readonly numel: number;
}

export function splitRanges(numel: number, parts: number): Range[] {
  const per = Math.ceil(numel / parts / 32) * 32;
  const out: Range[] = [];
  for (let start = 0; start < numel; start += per) out.push({ start, numel: Math.min(per, numel - start) });
  return out;
}

/** Compact copies of a range's bytes, so that only they travel (a view would post its whole buffer). */
function sliceRaw(c: RawChunk, r: Range): RawChunk {
  const s = dtypeBytes(c.dtype);
  return { bytes: c.bytes.slice(r.start * s, (r.start + r.numel) * s), dtype: c.dtype };
}

function sliceChunk(chunk: ChunkInput, r: Range): ChunkInput {
  return { numel: r.numel, base: sliceRaw(chunk.base, r), tasks: chunk.tasks.map((t) => sliceRaw(t, r)) };
}

function buffersOf(chunk: ChunkInput): ArrayBuffer[] {
  return [chunk.base, ...chunk.tasks].map((c) => c.bytes.buffer as ArrayBuffer);
}

export class ParallelCpuEngine implements MergeEngine {
  readonly kind = 'cpu' as const;
  readonly description: string;
  private readonly local: CpuEngine;
  private readonly arenaHelper: boolean;

  constructor(
    private readonly workers: readonly Remote<KernelServer>[],
    /** Ends the workers (terminate). */
    private readonly close: () => void,
    /**
     * `wasm: false`: the calling thread's engine keeps to the JavaScript kernels (tests).
     * `arena`: EMR merges held in the engine's memory (see CpuEngine); `arenaHelper`: the first
     * worker helps their elect pass over a shared memory (where shared WebAssembly memory exists).
     * Both the CLI's.
     */
    options: { wasm?: boolean; arena?: boolean; arenaHelper?: boolean } = {},
  ) {
    this.local = new CpuEngine(options);
    this.arenaHelper = options.arenaHelper === true && workers.length > 0;
    const n = `${workers.length} worker${workers.length === 1 ? '' : 's'}`;
    this.description = this.local.simd ? `CPU (WebAssembly SIMD, ${n})` : `CPU (${n})`;
  }

  /** Runs `work` on each range's piece of the chunk in its own worker, or locally when small. */
  private async spread<T>(
    chunk: ChunkInput,
    local: () => Promise<T>,
    work: (w: Remote<KernelServer>, piece: ChunkInput, r: Range) => Promise<T>,
  ): Promise<{ ranges: Range[]; parts: T[] } | { local: T }> {
    if (chunk.numel < MIN_PARALLEL_ELEMENTS || this.workers.length < 2) return { local: await local() };
    const ranges = splitRanges(chunk.numel, this.workers.length);
    const parts = await Promise.all(
      ranges.map((r, i) => {
        const piece = sliceChunk(chunk, r);
        return work(this.workers[i] as Remote<KernelServer>, transfer(piece, buffersOf(piece)), r);
      }),
    );
    return { ranges, parts };
  }

  /**
   * Whether EMR stays on the calling thread: with WebAssembly SIMD its kernels run faster there
   * than the chunk's bytes travel to workers (measured: docs/benchmarks.md).
   */
  get simd(): boolean {
    return this.local.simd;
  }

  /** EMR stays on the calling thread with SIMD: its inputs can be read into its kernels' memory. */
  emrInputs(slot: 0 | 1, numel: number, maxNumel: number, numTasks: number): EmrInputViews | undefined {
    return this.local.simd ? this.local.emrInputs(slot, numel, maxNumel, numTasks) : undefined;
  }

  /**
   * With SIMD the whole EMR merge can live in the calling thread's kernel memory (../emr-arena.ts);
   * with `arenaHelper`, in a shared one whose every other chunk the first worker elects.
   */
  emrArena(tensors: readonly ArenaTensor[], numTasks: number, maxNumel: number): EmrArena | undefined {
    const w = this.arenaHelper ? this.workers[0] : undefined;
    const helper: ArenaHelper | undefined = w && {
      attach: (memory) => w.arenaAttach(memory),
      elect: (id, call) => w.arenaElect(id, call),
      detach: (id) => w.arenaDetach(id),
    };
    return this.local.emrArena(tensors, numTasks, maxNumel, helper);
  }

  async emr(chunk: ChunkInput): Promise<EmrChunkOut> {
    if (this.local.simd) return this.local.emr(chunk);
    const s = await this.spread(
      chunk,
      () => this.local.emr(chunk),
      (w, piece) => w.emr(piece),
    );
    if ('local' in s) return s.local;
    const numTasks = chunk.tasks.length;
    const words = maskWords(chunk.numel);
    const tauUni = new Float32Array(chunk.numel);
    const masks = new Uint32Array(numTasks * words);
    const sumAbsTau = new Float64Array(numTasks);
    const sumAbsMasked = new Float64Array(numTasks);
    let conflicts = 0;
    const nonFinite = addCounts(s.parts);
    s.parts.forEach((p, i) => {
      const r = s.ranges[i] as Range;
      tauUni.set(p.tauUni, r.start);
      const pw = maskWords(r.numel);
      for (let t = 0; t < numTasks; t++) {
        masks.set(p.masks.subarray(t * pw, (t + 1) * pw), t * words + r.start / 32);
        sumAbsTau[t] = (sumAbsTau[t] as number) + (p.sumAbsTau[t] as number);
        sumAbsMasked[t] = (sumAbsMasked[t] as number) + (p.sumAbsMasked[t] as number);
      }
      conflicts += p.conflicts;
    });
    return { tauUni, masks, sumAbsTau, sumAbsMasked, conflicts, nonFinite };
  }

  async emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const numel = tauUni.length;
    if (numel < MIN_PARALLEL_ELEMENTS || this.workers.length < 2 || this.local.simd)
      return this.local.emrReconstruct(base, tauUni, mask, maskOffsetWords, lambda, dtype);
    const ranges = splitRanges(numel, this.workers.length);
    const parts = await Promise.all(
      ranges.map((r, i) => {
        const b = sliceRaw(base, r);
        const tau = tauUni.slice(r.start, r.start + r.numel);
        const m = mask.slice(maskOffsetWords + r.start / 32, maskOffsetWords + (r.start + r.numel + 31) / 32);
        return (this.workers[i] as Remote<KernelServer>).emrReconstruct(
          transfer(b, [b.bytes.buffer as ArrayBuffer]),
          transfer(tau, [tau.buffer]),
          transfer(m, [m.buffer]),
          lambda,
          dtype,
        );
      }),
    );
    // Ranges are whole elements, so the narrowed pieces join byte for byte.
    const size = dtypeBytes(dtype);
    const out = new Uint8Array(numel * size);
    parts.forEach((p, i) => out.set(p, (ranges[i] as Range).start * size));
    return out;
  }

  /** See CpuEngine.emrReconstructF32Into (on the calling thread). */
  emrReconstructF32Into(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    out: Float32Array,
  ): Promise<void> {
    return this.local.emrReconstructF32Into(base, tauUni, mask, maskOffsetWords, lambda, out);
  }

  async average(chunk: ChunkInput): Promise<LinearChunkOut> {
    const s = await this.spread(
      chunk,
      () => this.local.average(chunk),
      (w, piece) => w.average(piece),
    );
    return 'local' in s ? s.local : joinLinear(chunk.numel, s.ranges, s.parts);
  }

  async taskArithmetic(chunk: ChunkInput, lambda: number): Promise<LinearChunkOut> {
    const s = await this.spread(
      chunk,
      () => this.local.taskArithmetic(chunk, lambda),
      (w, piece) => w.taskArithmetic(piece, lambda),
    );
    return 'local' in s ? s.local : joinLinear(chunk.numel, s.ranges, s.parts);
  }

  async absHistogram(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
    counts: Uint32Array,
  ): Promise<void> {
    const s = await this.spread(
      chunk,
      async () => {
        await this.local.absHistogram(chunk, level, prefix, counts);
        return undefined;
      },
      (w, piece) => w.absHistogram(piece, level, prefix),
    );
    if ('local' in s) return;
    for (const part of s.parts)
      for (let i = 0; i < counts.length; i++)
        counts[i] = (counts[i] as number) + ((part as Uint32Array)[i] as number);
  }

  async ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number): Promise<TiesChunkOut> {
    const s = await this.spread(
      chunk,
      () => this.local.ties(chunk, thresholds, lambda),
      (w, piece) => w.ties(piece, thresholds, lambda),
    );
    if ('local' in s) return s.local;
    const merged = joinValues(
      chunk.numel,
      s.ranges,
      s.parts.map((p) => p.merged),
    );
    const pending = s.parts.flatMap((p, i) =>
      p.pending.map((q) => ({ ...q, index: q.index + (s.ranges[i] as Range).start })),
    );
    return {
      merged,
      signSum: s.parts.reduce((a, p) => a + p.signSum, 0),
      pending,
      nonFinite: addCounts(s.parts),
    };
  }

  dispose(): void {
    this.close();
  }
}

/** The pieces' NaN/±∞ counts, model by model. */
function addCounts(parts: readonly { readonly nonFinite: Uint32Array }[]): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(parts[0]?.nonFinite.length ?? 0);
  for (const p of parts) p.nonFinite.forEach((c, m) => (out[m] = (out[m] as number) + c));
  return out;
}

function joinLinear(
  numel: number,
  ranges: readonly Range[],
  parts: readonly LinearChunkOut[],
): LinearChunkOut {
  return {
    merged: joinValues(
      numel,
      ranges,
      parts.map((p) => p.merged),
    ),
    nonFinite: addCounts(parts),
  };
}

function joinValues(
  numel: number,
  ranges: readonly Range[],
  parts: readonly Float32Array[],
): Float32Array<ArrayBuffer> {
  const out = new Float32Array(numel);
  parts.forEach((p, i) => out.set(p, (ranges[i] as Range).start));
  return out;
}
