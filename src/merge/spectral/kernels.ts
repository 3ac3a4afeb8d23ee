// The spectral methods on one 2-D weight: task vectors τ_t (m×n, row-major, float64; `tau(t)` makes
// task t's on demand, so only one is held at a time) in, the merged task vector out — the functions of FusionBench's reference code, step for step:
// `compute_and_sum_svd_mem_reduction` (TSV-M, task_singular_vector/utils/TSVM_utils.py), `iso_c` and
// `iso_cts` (isotropic_merging/iso_utils.py); docs/merge.md#spectral. Every step is float64. Their
// results do not depend on the signs the SVD gives its singular vectors: a sign flip of a column of U
// comes with the same flip of the row of Vᵀ, and polar(X·D) = polar(X)·D for a ±1 diagonal D.
import { matmul, polar, svd } from './svd';

/** Task t's task vector, float64, made on demand. */
export type TaskVectors = (t: number) => Float64Array;

export class SpectralSizeError extends RangeError {
  override readonly name = 'SpectralSizeError';
}

/** Python's round(): to nearest, ties to even (iso_cts sizes its subspaces with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * TSV-M: each task keeps its ⌊k/N⌋ leading singular triplets, placed side by side (task t in columns
 * [t·r, (t+1)·r) of ΣU, rows of ΣVᵀ, entries of Σs; the rest zero); the merged task vector is
 * polar(ΣU) · diag(Σs) · polar(ΣVᵀ).
 */
export function tsvmLayer(tau: TaskVectors, numTasks: number, m: number, n: number): Float64Array {
  const k = Math.min(m, n);
  const r = Math.trunc(k * (1 / numTasks)); // int(s.shape[0] * sv_reduction)
  const sumU = new Float64Array(m * k);
  const sumS = new Float64Array(k);
  const sumVt = new Float64Array(k * n);
  for (let t = 0; t < numTasks; t++) {
    const d = svd(tau(t), m, n);
    for (let j = 0; j < r; j++) {
      const col = t * r + j;
      for (let i = 0; i < m; i++) sumU[i * k + col] = d.u[i * k + j] as number;
      sumS[col] = d.s[j] as number;
      sumVt.set(d.vt.subarray(j * n, (j + 1) * n), col * n);
    }
  }
  return scaledProduct(polar(sumU, m, k), sumS, polar(sumVt, k, n), m, k, n);
}

/** Iso-C: Σ_t τ_t with its spectrum flattened to the mean singular value: s̄ · U·Vᵀ. */
export function isoCLayer(tau: TaskVectors, numTasks: number, m: number, n: number): Float64Array {
  const sum = sumOf(tau, numTasks, m * n);
  const d = svd(sum, m, n);
  const mean = meanOf(d.s);
  return scaledProduct(d.u, new Float64Array(d.k).fill(mean), d.vt, m, d.k, n);
}

/** The sizes iso_cts gives the common subspace and each task's own (their sum is k). */
export function isoCtsSizes(
  k: number,
  numTasks: number,
  commonSpaceFraction: number,
): { common: number; perTask: number } {
  const first = Math.trunc(k * commonSpaceFraction);
  const taskTotal = roundHalfEven((k - first) / numTasks) * numTasks;
  const common = k - taskTotal;
  return { common, perTask: Math.trunc((k - common) / numTasks) };
}

/**
 * Iso-CTS: the common subspace is the leading `common` singular directions of Σ_t τ_t; each task adds
 * the leading `perTask` directions of its τ_t with the common left subspace projected out
 * (τ_t − U_c·U_cᵀ·τ_t); the columns [task 0 … task N−1, common] of U and rows of Vᵀ are
 * orthogonalized (polar factors) and weighted alike by the mean of the gathered singular values.
 */
export function isoCtsLayer(
  tau: TaskVectors,
  numTasks: number,
  m: number,
  n: number,
  commonSpaceFraction: number,
): Float64Array {
  const k = Math.min(m, n);
  const { common, perTask } = isoCtsSizes(k, numTasks, commonSpaceFraction);
  if (common < 0)
    throw new SpectralSizeError(
      `iso_cts: a ${m}×${n} weight with ${numTasks} tasks and common_space_fraction ${commonSpaceFraction} leaves the common subspace ${common} directions (the reference slices nonsense there)`,
    );
  const d = svd(sumOf(tau, numTasks, m * n), m, n);
  const uc = new Float64Array(m * common); // u[:, :common]
  for (let i = 0; i < m; i++) uc.set(d.u.subarray(i * k, i * k + common), i * common);
  const ucT = transpose(uc, m, common);

  const combU = new Float64Array(m * k);
  const combS = new Float64Array(k);
  const combVt = new Float64Array(k * n);
  for (let t = 0; t < numTasks; t++) {
    const w = tau(t);
    // w − common_space_u @ common_space_u.T @ w, as U_c·(U_cᵀ·w): equal in exact arithmetic, and it
    // never forms the m×m projector (75 MB for an MLP's 3072 rows).
    const proj = matmul(uc, matmul(ucT, w, common, m, n), m, common, n);
    const wts = w.map((x, i) => x - (proj[i] as number));
    const e = svd(wts, m, n);
    for (let j = 0; j < perTask; j++) {
      const col = t * perTask + j;
      for (let i = 0; i < m; i++) combU[i * k + col] = e.u[i * k + j] as number;
      combS[col] = e.s[j] as number;
      combVt.set(e.vt.subarray(j * n, (j + 1) * n), col * n);
    }
  }
  const at = numTasks * perTask;
  for (let j = 0; j < common; j++) {
    for (let i = 0; i < m; i++) combU[i * k + at + j] = d.u[i * k + j] as number;
    combS[at + j] = d.s[j] as number;
    combVt.set(d.vt.subarray(j * n, (j + 1) * n), (at + j) * n);
  }
  const mean = meanOf(combS);
  return scaledProduct(polar(combU, m, k), new Float64Array(k).fill(mean), polar(combVt, k, n), m, k, n);
}

/** A·diag(s)·B for A (m×k), B (k×n): the references' multi_dot((A, diag(s), B)). */
function scaledProduct(
  a: Float64Array,
  s: Float64Array,
  b: Float64Array,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const as = new Float64Array(m * k);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < k; j++) as[i * k + j] = (a[i * k + j] as number) * (s[j] as number);
  return matmul(as, b, m, k, n);
}

/** Python's sum(tvs): 0 + τ_0 + τ_1 + …, in task order. */
function sumOf(tau: TaskVectors, numTasks: number, numel: number): Float64Array {
  const sum = new Float64Array(numel);
  for (let t = 0; t < numTasks; t++) {
    const x = tau(t);
    for (let i = 0; i < numel; i++) sum[i] = (sum[i] as number) + (x[i] as number);
  }
  return sum;
}

const meanOf = (s: Float64Array) => (s.length === 0 ? 0 : s.reduce((a, x) => a + x, 0) / s.length);

function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j] as number;
  return t;
}
