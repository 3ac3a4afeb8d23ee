// A whole EMR merge laid out in an engine's own memory (the CPU engine's WebAssembly memory): each
// shared tensor's τ_uni, its N packed masks and the base's bytes, placed once before the elect
// pass, with the input slots the pass reads into. The elect kernel reads the chunk where it was
// read and writes τ_uni and the masks where they stay; the task models are rebuilt from the same
// memory. Without it each chunk's results are copied out of the kernels' memory and into the
// result, and every task's rebuild copies the base and τ_uni back in (docs/benchmarks.md).
import type { TensorName } from '../formats/tensor';

/** Where a chunk's inputs are read (the engine's EmrInputViews). */
export interface ArenaInputs {
  readonly base: Uint8Array;
  readonly tasks: readonly Uint8Array[];
}

/** What one elect chunk adds to the result besides τ_uni and the masks (written in place). */
export interface EmrChunkSums {
  /** Per task Σ|τ_t| over the chunk. */
  readonly sumAbsTau: Float64Array;
  /** Per task Σ|M_t ⊙ τ_uni| over the chunk. */
  readonly sumAbsMasked: Float64Array;
  /** Elements where some task's τ is > 0 and another's < 0. */
  readonly conflicts: number;
  /** NaN/±∞ elements as read: the base's, then each task's (1 + N counts). */
  readonly nonFinite: Uint32Array;
  /** Per task, the mask's ones over the chunk (counted by the thread that elected it). */
  readonly maskOnes: Uint32Array;
}

/** Elements [start, start + numel) of the shared tensor `name` (start a multiple of 32). */
export interface ArenaRange {
  readonly name: TensorName;
  readonly start: number;
  readonly numel: number;
}

export interface EmrArena {
  /** Each shared tensor's τ_uni: views that stay valid as long as the arena (it never grows). */
  readonly tauUni: ReadonlyMap<TensorName, Float32Array>;
  /** Each shared tensor's N packed masks back to back (task t at t·⌈numel/32⌉ words): views too. */
  readonly masks: ReadonlyMap<TensorName, Uint32Array>;
  /**
   * Threads the elect kernel runs on: 1, or 2 where a helper thread shares the memory (once it is
   * up, every other chunk goes to it, and three input slots take turns: two computing, one read).
   */
  readonly lanes: 1 | 2;
  /** Chunks the helper thread elected so far. */
  readonly helped: number;
  /** Where a chunk's F32 inputs are read: the base to where it is kept, the tasks to slot `slot`. */
  inputs(slot: number, r: ArenaRange): ArenaInputs;
  /**
   * The elect kernel over a chunk read into `inputs`: τ_uni and masks land in place. On the calling
   * thread (done before it returns), or on the helper when it is up and the chunk before did not go
   * there (so at most one chunk waits on it).
   */
  elect(r: ArenaRange, input: ArenaInputs): EmrChunkSums | Promise<EmrChunkSums>;
  /** Lets the helper thread go (after the elect pass); the values stay. */
  release(): Promise<void>;
  /** Task t's θ₀ + λ·(M_t ⊙ τ_uni) over the range, in f32, into `out` (r.numel values). */
  reconstructInto(r: ArenaRange, t: number, lambda: number, out: Float32Array): void;
  /** Two output slots for one writer of task models, or undefined while every pair is taken. */
  outputPair(): ArenaOutputs | undefined;
}

/** A writer's two output slots in the arena: rebuilt pieces are written to a file from there. */
export interface ArenaOutputs {
  /** The most elements one piece holds. */
  readonly elements: number;
  /**
   * Task t's θ₀ + λ·(M_t ⊙ τ_uni) over the range (at most `elements`) in the next slot: a view of
   * the arena, valid until the call after the next (one piece written while the next is built).
   */
  reconstruct(r: ArenaRange, t: number, lambda: number): Float32Array;
  /** Gives the slots back; the views they gave must no longer be in use. */
  release(): void;
}

/** A shared tensor as the arena lays it out. */
export interface ArenaTensor {
  readonly name: TensorName;
  readonly numel: number;
}
