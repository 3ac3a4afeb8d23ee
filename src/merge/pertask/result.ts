// A per-task method's result: the shared part kept once and a per-task "modulator" that turns it
// and the base into each task's weights — the shape EMR's τ_uni + mask + λ already has. Two kinds:
//   masked  τ (f32) per shared tensor, M packed masks, and per task which mask and which α:
//           θ_t = θ₀ + α_t·(τ ⊙ m_t) (TALL masks: one mask per task, α = 1; Consensus: one mask
//           and one α for every task).
//   switch  per task and tensor: keep bits, sign bits and one f32 scalar: θ_t = θ₀ + b·s (T-Switch).
//   lowrank per task and 2-D tensor: the f32 factors u, s, v of its τ's top singular components,
//           θ_t = θ₀ + (u·diag(s))·v; per other tensor the task's own τ, θ_t = θ₀ + τ_t (TSV-C).
import type { TensorName } from '../../formats/tensor';
import type { ModelSet } from '../model-set';
import type { NonFiniteReport } from '../non-finite';
import type { PerTaskReconstructInput, RawChunk } from '../engine';
import type { PerTaskSpec } from './spec';

export interface MaskedModulator {
  readonly kind: 'masked';
  /** τ_MTL per shared tensor. */
  readonly tau: ReadonlyMap<TensorName, Float32Array>;
  /** Per shared tensor, the masks back to back (mask j at j·⌈numel/32⌉ words). */
  readonly masks: ReadonlyMap<TensorName, Uint32Array>;
  /** How many masks each tensor holds (N for TALL masks, 1 for Consensus). */
  readonly maskCount: number;
  /** Per task: its mask's index. */
  readonly maskOf: readonly number[];
  /** Per task: α (applied as an f32). */
  readonly alphas: readonly number[];
}

export interface SwitchModulator {
  readonly kind: 'switch';
  /** Per shared tensor, the N tasks' keep bits back to back (task t at t·⌈numel/32⌉ words). */
  readonly keep: ReadonlyMap<TensorName, Uint32Array>;
  /** Likewise the sign bits (1: negative). */
  readonly sign: ReadonlyMap<TensorName, Uint32Array>;
  /** Per shared tensor, the N tasks' scalars. */
  readonly scales: ReadonlyMap<TensorName, Float32Array>;
}

/** One 2-D shared tensor's TSV-C factors: per task, as ./lowrank TsvcFactors. */
export interface LowRankTensor {
  readonly rows: number;
  readonly cols: number;
  /** k = int(min(rows, cols) · sv_reduction), the same for every task. */
  readonly rank: number;
  /** Per task (task order): u[:, :k] (rows×k), s[:k], v[:k, :] (k×cols), f32. */
  readonly u: readonly Float32Array[];
  readonly s: readonly Float32Array[];
  readonly vt: readonly Float32Array[];
  /** Per task: the share of Σσ² the kept components hold (absent for a reloaded artefact). */
  readonly energy?: readonly number[];
}

export interface LowRankModulator {
  readonly kind: 'lowrank';
  /** The 2-D shared tensors. */
  readonly factors: ReadonlyMap<TensorName, LowRankTensor>;
  /** The other shared tensors: the N tasks' own τ back to back (task t at t·numel). */
  readonly dense: ReadonlyMap<TensorName, Float32Array>;
}

export type PerTaskModulator = MaskedModulator | SwitchModulator | LowRankModulator;

export interface PerTaskTaskStats {
  readonly task: string;
  /**
   * Fraction of the shared parameters that task's model changes from the base (its mask's ones);
   * TSV-C: the f32 values it stores (factors and own τ) over the shared parameters.
   */
  readonly density: number;
  /** TALL masks / Consensus: the λ_t its mask was built with. */
  readonly lambda?: number;
}

export interface PerTaskResult {
  readonly spec: PerTaskSpec;
  readonly set: ModelSet;
  readonly modulator: PerTaskModulator;
  readonly tasks: readonly PerTaskTaskStats[];
  readonly bytesRead: number;
  /** TIES-based τ_MTL: each task's |τ| threshold and the model-wide majority sign. */
  readonly ties?: { readonly thresholds: readonly number[]; readonly majority: -1 | 0 | 1 };
  readonly nonFinite?: NonFiniteReport;
}

export const isPerTaskResult = (r: { readonly spec: { readonly method: string } }): r is PerTaskResult =>
  'modulator' in r;

function need<V>(map: ReadonlyMap<TensorName, V>, name: TensorName): V {
  const v = map.get(name);
  if (v === undefined) throw new RangeError(`the per-task result has nothing for tensor ${name}`);
  return v;
}

/**
 * What rebuilds task t's weights for elements [first, last) of a shared tensor of `numel` elements
 * (`first` a multiple of 32), given the base's stored bytes there: the input of the engine's
 * reconstruction pass (../engine.ts; its CPU twin is ./passes perTaskReconstructPass).
 */
export function perTaskReconstructInput(
  m: PerTaskModulator,
  name: TensorName,
  numel: number,
  t: number,
  first: number,
  last: number,
  base: RawChunk,
): PerTaskReconstructInput {
  if (m.kind === 'lowrank') {
    const f = m.factors.get(name);
    if (!f) {
      const tau = need(m.dense, name);
      return { mode: 'dense', base, tau: tau.subarray(t * numel + first, t * numel + last) };
    }
    // The rows that elements [first, last) touch.
    const r0 = Math.floor(first / f.cols);
    const r1 = last > first ? Math.floor((last - 1) / f.cols) + 1 : r0;
    return {
      mode: 'lowrank',
      base,
      first,
      numel: last - first,
      cols: f.cols,
      rank: f.rank,
      u: (f.u[t] as Float32Array).subarray(r0 * f.rank, r1 * f.rank),
      s: f.s[t] as Float32Array,
      vt: f.vt[t] as Float32Array,
    };
  }
  const at = Math.ceil(numel / 32) * (m.kind === 'masked' ? (m.maskOf[t] as number) : t);
  const words = [at + first / 32, at + Math.ceil(last / 32)] as const;
  if (m.kind === 'masked')
    return {
      mode: 'masked',
      base,
      tau: need(m.tau, name).subarray(first, last),
      mask: need(m.masks, name).subarray(...words),
      alpha: m.alphas[t] as number,
    };
  return {
    mode: 'switch',
    base,
    numel: last - first,
    keep: need(m.keep, name).subarray(...words),
    sign: need(m.sign, name).subarray(...words),
    scale: need(m.scales, name)[t] as number,
  };
}
