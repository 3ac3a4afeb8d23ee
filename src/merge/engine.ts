// The engine interface: what the streaming scheduler asks of the CPU and the GPU engine alike.
// "Here is chunk k of tensor T for the base and every task; give back τ_uni, packed masks and
// partial sums" — plus the baselines' passes and the reconstruction of a task's weights. Every
// merging pass also counts the NaN/±∞ elements it read, per model (`nonFinite`), for the report.
import type { MergeDType } from '../formats/dtype';
import type { EmrChunkOut, LinearChunkOut, TiesChunkOut } from './cpu/kernels';
import type { ArenaTensor, EmrArena } from './emr-arena';
import type { GtaMixInput } from './mergekit/gta-mix';
import type { Combine2, CombineRowsInput } from './mergekit/slerp-mix';
import type { LinearMixInput } from './mergekit/linear-mix';
import type { StockBlendInput } from './mergekit/stock-blend';

export type { EmrChunkOut, LinearChunkOut, TiesChunkOut };

/** Bytes of one chunk of one tensor in its stored dtype (little-endian, any alignment). */
export interface RawChunk {
  readonly bytes: Uint8Array;
  readonly dtype: MergeDType;
}

/** Elements [start, start + numel) of one shared tensor, for the base and every task. */
export interface ChunkInput {
  readonly numel: number;
  readonly base: RawChunk;
  /** Task order. */
  readonly tasks: readonly RawChunk[];
}

export interface EmrInputViews {
  readonly base: Uint8Array;
  readonly tasks: readonly Uint8Array[];
}

/** A per-task bit pass's inputs (pertask/passes.ts): the base and one task over `numel` elements. */
export interface PerTaskBitsInput {
  readonly numel: number;
  readonly base: RawChunk;
  readonly task: RawChunk;
}

/** TALL masks' mask pass: τ_MTL over the same elements (f32) and the task's λ_t. */
export interface TallMaskInput extends PerTaskBitsInput {
  readonly tau: Float32Array;
  readonly lambda: number;
}

/** T-Switch's binarise pass, given process_matrix's thresholds for positive and negative τ. */
export interface TSwitchBitsInput extends PerTaskBitsInput {
  readonly tp: number;
  readonly tn: number;
}

/** A per-task method's reconstruction of one task over a chunk; bits (and signs) start at word 0. */
export type PerTaskReconstructInput =
  | {
      readonly mode: 'masked';
      readonly base: RawChunk;
      readonly tau: Float32Array;
      readonly mask: Uint32Array;
      readonly alpha: number;
    }
  | {
      readonly mode: 'switch';
      readonly base: RawChunk;
      readonly numel: number;
      readonly keep: Uint32Array;
      readonly sign: Uint32Array;
      readonly scale: number;
    }
  | {
      /** TSV-C, a 2-D tensor: elements [first, first + numel) of θ₀ + (u·diag(s))·v (pertask/lowrank). */
      readonly mode: 'lowrank';
      readonly base: RawChunk;
      readonly first: number;
      readonly numel: number;
      readonly cols: number;
      readonly rank: number;
      /** The rows of u that the elements touch, from ⌊first / cols⌋ on (rank values a row). */
      readonly u: Float32Array;
      readonly s: Float32Array;
      readonly vt: Float32Array;
    }
  | {
      /** TSV-C, any other tensor: θ₀ + the task's own τ over the chunk. */
      readonly mode: 'dense';
      readonly base: RawChunk;
      readonly tau: Float32Array;
    };

export interface MergeEngine {
  /** 'cpu' or 'gpu', and a line for the user ("GPU: NVIDIA RTX 4090", "CPU: 8 threads"). */
  readonly kind: 'cpu' | 'gpu';
  readonly description: string;
  /**
   * Calls may be issued before the previous one resolves, and it pays (the GPU engine uploads the
   * next chunk while the current one computes): the scheduler then keeps one more chunk in flight.
   */
  readonly overlap?: boolean;
  /** EMR's fused pass: τ_uni, masks and the rescalers' partial sums. */
  emr(chunk: ChunkInput): Promise<EmrChunkOut>;
  /**
   * Where an F32 chunk's inputs can be read straight into the engine's own memory, so `emr` takes
   * them without a copy: `numel × 4` bytes for the base and each task, in slot 0 or 1 (the chunk
   * computing and the one being read). Sized for `maxNumel` at a pass's first call; the views stay
   * valid until the pass ends. Undefined where the engine cannot (it then copies as usual).
   */
  emrInputs?(slot: 0 | 1, numel: number, maxNumel: number, numTasks: number): EmrInputViews | undefined;
  /**
   * The whole EMR merge in the engine's own memory (./emr-arena.ts): every tensor's τ_uni, masks
   * and base, and input slots for chunks of up to `maxNumel` elements. Undefined where the engine
   * cannot, or the merge would not fit.
   */
  emrArena?(tensors: readonly ArenaTensor[], numTasks: number, maxNumel: number): EmrArena | undefined;
  /**
   * One task's weights for a chunk: θ₀ + λ·(M ⊙ τ_uni) in f32, narrowed to `dtype` (the task's own)
   * with round-to-nearest-even; `mask` words start at `maskOffsetWords`.
   */
  emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ): Promise<Uint8Array<ArrayBuffer>>;
  average(chunk: ChunkInput): Promise<LinearChunkOut>;
  taskArithmetic(chunk: ChunkInput, lambda: number): Promise<LinearChunkOut>;
  /** Adds to `counts` (N × 65 536) the radix histogram of |τ_t| at `level` (see cpu/kernels). */
  absHistogram(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
    counts: Uint32Array,
  ): Promise<void>;
  ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number): Promise<TiesChunkOut>;
  /**
   * mergekit's generalized task arithmetic, element-wise end (mergekit/gta-mix.ts): an engine with
   * a program for it (the GPU engine) runs it there; without, the CPU function runs.
   */
  gtaMix?(x: GtaMixInput): Promise<Float32Array>;
  /** DARE's drops, τ ⊙ Bernoulli(density) with the seeded words (mergekit/sparsify `randomDrop`). */
  randomDrop?(tau: Float32Array, key: number, p: number | Float32Array): Promise<Float32Array>;
  /** mergekit slerp's element-wise step, a·v0 + b·v1 (÷ divide) (mergekit/slerp-mix `combine2`). */
  combine2?(f: Combine2, v0: Float32Array, v1: Float32Array): Promise<Float32Array>;
  /** The same with one factor set per row: nuslerp's vectors (mergekit/slerp-mix `combineRows`). */
  combineRows?(x: CombineRowsInput): Promise<Float32Array>;
  /** mergekit `linear`: Σ_t w_t·θ_t (÷ Σ_t w_t) per element (mergekit/linear-mix `linearMix`). */
  linearMix?(x: LinearMixInput): Promise<Float32Array>;
  /** mergekit `model_stock`'s blend once t is known per row (mergekit/stock-blend `stockBlend`). */
  stockBlend?(x: StockBlendInput): Promise<Float32Array>;
  /**
   * The per-task methods' element-wise passes (pertask/passes.ts): task t's TALL mask words,
   * T-Switch's keep and sign words, and a task's f32 weights from a masked or binarised modulator.
   * The runner hands them to a GPU engine only (the CPU engines compute them in place, on the
   * values it has already widened); the CPU engine's are the twins.
   */
  tallMask?(x: TallMaskInput): Promise<Uint32Array>;
  tSwitchBits?(x: TSwitchBitsInput): Promise<{ keep: Uint32Array; sign: Uint32Array }>;
  perTaskReconstruct?(x: PerTaskReconstructInput): Promise<Float32Array>;
  dispose(): void;
}
