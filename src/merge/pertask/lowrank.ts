// TSV-C's kernels (AntoAndGar/task_singular_vectors, src/utils/TSVC_utils.py and the TSVC arm of
// src/eval/eval.py evaluate), each the port of a named function of the original code:
//   compute_svd_and_compress  u, s, v = torch.linalg.svd(τ, full_matrices=False);
//                             k = int(s.shape[0] * sv_reduction); keep u[:, :k], s[:k], v[:k, :]
//   compress_tv               that for every tensor with len(shape) == 2, {"dim1": τ} for the others
//   evaluate (TSVC arm)       τ' = u @ diag_embed(s) @ v (or dim1), then apply_to: θ₀ + 1.0 · τ'
// τ is f32 as the original's (finetuned − pretrained on f32 tensors). The SVD is the studio's
// float64 one (../spectral/svd.ts) on that τ, its factors rounded to f32 as the original keeps them;
// the product is (u·s rounded to f32, as u @ diag_embed(s) gives) times v, summed in float64 and
// rounded once: a defined order, where torch's BLAS order is not (docs/merge.md#tsv-c).
import { svd } from '../spectral/svd';

const fr = Math.fround;

/** compute_svd_and_compress's rank: int(min(m, n) * sv_reduction), a float64 product truncated as Python. */
export const tsvcRank = (rows: number, cols: number, svReduction: number): number =>
  Math.trunc(Math.min(rows, cols) * svReduction);

/** One task's kept factors of one 2-D tensor, f32 as compress_tv stores them. */
export interface TsvcFactors {
  /** rows×rank, row-major: u[:, :k]. */
  readonly u: Float32Array;
  /** rank values, descending: s[:k]. */
  readonly s: Float32Array;
  /** rank×cols, row-major: v[:k, :] (torch's `v` is Vᴴ). */
  readonly vt: Float32Array;
  /** Σ of the kept σ² over Σ of every σ² (float64; 0 for τ = 0): the energy the rank keeps. */
  readonly energy: number;
}

/**
 * compute_svd_and_compress on τ = θ_t − θ₀ (f32) of a rows×cols tensor. Throws SvdError for a
 * non-finite τ (torch.linalg.svd refuses those too).
 */
export function tsvcCompress(
  base: Float32Array,
  task: Float32Array,
  rows: number,
  cols: number,
  svReduction: number,
): TsvcFactors {
  const n = rows * cols;
  const tau = new Float64Array(n);
  for (let i = 0; i < n; i++) tau[i] = fr((task[i] as number) - (base[i] as number));
  const k = tsvcRank(rows, cols, svReduction);
  const d = svd(tau, rows, cols);
  const u = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) for (let l = 0; l < k; l++) u[i * k + l] = d.u[i * d.k + l] as number;
  const s = Float32Array.from(d.s.subarray(0, k));
  const vt = Float32Array.from(d.vt.subarray(0, k * cols));
  let kept = 0;
  let all = 0;
  d.s.forEach((x, l) => {
    all += x * x;
    if (l < k) kept += x * x;
  });
  return { u, s, vt, energy: all > 0 ? kept / all : 0 };
}

/**
 * evaluate's TSVC arm and apply_to for elements [first, first + base.length) of a row-major
 * rows×cols tensor: θ₀ + (u @ diag_embed(s)) @ v. `u` holds the rows from ⌊first / cols⌋ on.
 * u·s is an f32 product (torch's matmul with a diagonal adds only exact zeros to it); the k terms
 * of each element are exact in float64 and summed there in l order, rounded once to f32; then the
 * f32 sum with θ₀ (apply_to's scaling_coef 1.0 changes nothing).
 */
export function lowRankReconstruct(
  base: Float32Array,
  first: number,
  cols: number,
  rank: number,
  u: Float32Array,
  s: Float32Array,
  vt: Float32Array,
): Float32Array<ArrayBuffer> {
  const n = base.length;
  const out = new Float32Array(n);
  const row0 = Math.floor(first / cols);
  const us = new Float32Array(rank);
  let row = -1;
  for (let e = 0; e < n; e++) {
    const g = first + e;
    const i = Math.floor(g / cols);
    const j = g - i * cols;
    if (i !== row) {
      row = i;
      const at = (i - row0) * rank;
      for (let l = 0; l < rank; l++) us[l] = (u[at + l] as number) * (s[l] as number);
    }
    let acc = 0;
    for (let l = 0; l < rank; l++) acc += (us[l] as number) * (vt[l * cols + j] as number);
    out[e] = fr((base[e] as number) + fr(acc));
  }
  return out;
}

/** compress_tv's "dim1" arm: the task's own τ (f32), applied as θ₀ + τ. */
export function ownTau(base: Float32Array, task: Float32Array, n: number): Float32Array {
  const tau = new Float32Array(n);
  for (let i = 0; i < n; i++) tau[i] = (task[i] as number) - (base[i] as number);
  return tau;
}

/** apply_to with the "dim1" τ: θ₀ + τ in f32. */
export function denseReconstruct(base: Float32Array, tau: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = (base[i] as number) + (tau[i] as number);
  return out;
}
