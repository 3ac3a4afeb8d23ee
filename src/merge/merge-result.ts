// What a merge takes and gives: its options and progress, and each method family's result —
// EMR's τ_uni, masks and λ; one merged model for the baselines, mergekit's and the spectral methods.
import type { TensorName } from '../formats/tensor';
import type { EmrValues, ScratchFile } from './emr-values';
import type { MethodSpec } from './methods';
import type { MergekitSpec } from './mergekit/spec';
import type { ModelSet } from './model-set';
import type { NonFiniteReport } from './non-finite';
import type { PerTaskResult } from './pertask/result';
import type { SpectralSpec } from './spectral/spec';

export interface MergeProgress {
  readonly phase: 'histogram' | 'threshold' | 'merge';
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly tensorsDone: number;
  readonly tensorsTotal: number;
}

export interface MergeOptions {
  /** Bytes the scheduler may hold for chunks in flight (default 256 MiB). */
  readonly budgetBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: MergeProgress) => void;
  /**
   * EMR only: where τ_uni and the packed masks go when they would take more than `overBytes` in
   * memory (a scratch file beside the output, or in the origin-private file system).
   */
  readonly spill?: { readonly overBytes: number; open(bytes: number): Promise<ScratchFile> };
}

export interface EmrTensorStats {
  readonly name: TensorName;
  readonly numel: number;
  /** Elements where some task's τ is positive and another's negative. */
  readonly conflicts: number;
  /** Per task: ones in M_t, Σ|τ_t| and Σ|M_t ⊙ τ_uni| over this tensor. */
  readonly maskOnes: readonly number[];
  readonly sumAbsTau: readonly number[];
  readonly sumAbsMasked: readonly number[];
}

export interface EmrTaskStats {
  readonly task: string;
  readonly lambda: number;
  /** λ's numerator and denominator: Σ over tensors of mean|τ_t| and mean|M_t⊙τ_uni| (or the global sums). */
  readonly numerator: number;
  readonly denominator: number;
  /** True when the denominator was 0 and λ was set to 1. */
  readonly lambdaDefaulted: boolean;
  /** Fraction of shared parameters whose mask bit is on. */
  readonly density: number;
}

export interface EmrResult {
  readonly spec: Extract<MethodSpec, { method: 'emr' }>;
  readonly set: ModelSet;
  /** τ_uni and the masks by range, wherever they are kept: what every reader of a result uses. */
  readonly values: EmrValues;
  /** τ_uni per shared tensor, f32 — when held in memory; empty when the values were spilled. */
  readonly tauUni: ReadonlyMap<TensorName, Float32Array>;
  /**
   * Per shared tensor, the N tasks' packed masks back to back (task t at t·⌈numel/32⌉ words) —
   * when held in memory; empty when spilled.
   */
  readonly masks: ReadonlyMap<TensorName, Uint32Array>;
  readonly lambdas: readonly number[];
  readonly tasks: readonly EmrTaskStats[];
  readonly tensors: readonly EmrTensorStats[];
  readonly bytesRead: number;
  /** NaN/±∞ in the weights as read (absent for a result loaded from a bundle). */
  readonly nonFinite?: NonFiniteReport;
}

export interface MergedResultOf<S> {
  readonly spec: S;
  readonly set: ModelSet;
  /** The one merged value of every shared tensor, f32. */
  readonly merged: ReadonlyMap<TensorName, Float32Array>;
  /** TIES only: each task's |τ| threshold and the model-wide majority sign. */
  readonly ties?: { readonly thresholds: readonly number[]; readonly majority: -1 | 0 | 1 };
  readonly bytesRead: number;
  /** NaN/±∞ in the weights as read. */
  readonly nonFinite?: NonFiniteReport;
}

export type MergedResult = MergedResultOf<Exclude<MethodSpec, { method: 'emr' }>>;
/** A mergekit method's result (./mergekit): one merged model, like the baselines'. */
export type MergekitResult = MergedResultOf<MergekitSpec>;

/** A spectral method's result (./spectral): one merged model. */
export type SpectralResult = MergedResultOf<SpectralSpec>;

/** What the studio merges. */
export type MergeResult = EmrResult | MergedResult;
/** What the CLI merges: the studio's methods, mergekit's, the spectral and the per-task ones (./pertask). */
export type AnyMergeResult = MergeResult | MergekitResult | SpectralResult | PerTaskResult;

export const isEmr = (r: AnyMergeResult): r is EmrResult => r.spec.method === 'emr';
