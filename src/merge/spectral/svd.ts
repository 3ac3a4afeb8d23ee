// The thin singular value decomposition A = U·diag(s)·Vᵀ of an m×n matrix (k = min(m, n): U is m×k,
// s has k values in descending order, Vᵀ is k×n) — what the spectral methods' references get from
// torch.linalg.svd(A, full_matrices=False). In float64, as LAPACK's dgejsv: a Householder QR with
// column pivoting of the tall one of A and Aᵀ, then one-sided (Hestenes) Jacobi on the k×k triangle's
// transpose, plane rotations until every column pair is orthogonal to working precision. It needs no
// bidiagonal QR and is accurate to a few ulps of the largest singular value, tiny ones included
// (Demmel & Veselić 1992).
//
// The hot loops are plain Float64Array loops over contiguous columns (a dot product, a rotation of two
// columns, a Householder reflection); the sweeps' two run in WebAssembly SIMD where available
// (./jacobi-wasm.ts, the same bits; docs/merge.md#spectral).
//
// Singular vectors are defined up to sign (and, for repeated or zero singular values, up to a rotation
// of their subspace); callers must not depend on those choices. Where a Jacobi column is exactly zero
// its vector is completed deterministically: the first unit vectors e₀, e₁, … not yet spanned,
// Gram-Schmidt'ed against the others — so a zero matrix gives U = I and Vᵀ = I, as LAPACK's gesdd
// (torch) does.

import { JacobiMemory, jacobiWasmAvailable } from './jacobi-wasm';

export interface Svd {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** m×k, row-major. */
  readonly u: Float64Array;
  /** k singular values, descending. */
  readonly s: Float64Array;
  /** k×n, row-major. */
  readonly vt: Float64Array;
}

export class SvdError extends RangeError {
  override readonly name = 'SvdError';
}

/** Sweeps before giving up; random square matrices up to 1024 columns take 10–14. */
const MAX_SWEEPS = 60;
/** Columns per block of the sweep order (see jacobi). */
const BLOCK = 16;

export interface SvdOptions {
  /** The sweeps' loops in WebAssembly SIMD (./jacobi-wasm; the same bits): by default where available. */
  readonly wasm?: boolean;
}

export function svd(a: ArrayLike<number>, m: number, n: number, options: SvdOptions = {}): Svd {
  if (!(Number.isInteger(m) && Number.isInteger(n) && m >= 0 && n >= 0) || a.length !== m * n)
    throw new SvdError(`svd: ${a.length} values do not make a ${m}×${n} matrix`);
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i] as number)) throw new SvdError(`svd: a ${m}×${n} matrix holds ${a[i]}`);
  const k = Math.min(m, n);
  // The work is on the tall one of A and Aᵀ (`cols` = k columns of length `len`), stored column after
  // column: a row-major m×n matrix's columns are strided; its rows are the columns of Aᵀ, contiguous.
  const tall = m >= n;
  const len = tall ? m : n;
  const w = new Float64Array(len * k);
  if (tall) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a[i * n + j] as number;
  else for (let i = 0; i < m * n; i++) w[i] = a[i] as number;
  // Scaled by a power of two (exact) to a largest |value| in [1, 2), as LAPACK's dlascl: the squared
  // norms of the sweeps then neither overflow nor underflow; s is scaled back.
  let maxAbs = 0;
  for (let i = 0; i < w.length; i++) maxAbs = Math.max(maxAbs, Math.abs(w[i] as number));
  const e = maxAbs > 0 ? Math.floor(Math.log2(maxAbs)) : 0;
  if (e !== 0) scaleBy(w, -e);
  const { left, s, right } = tallSvd(w, len, k, options.wasm ?? jacobiWasmAvailable());
  if (e !== 0) scaleBy(s, e);
  const u = new Float64Array(m * k);
  const vt = new Float64Array(k * n);
  for (let r = 0; r < k; r++)
    if (tall) {
      // T = A = L·diag(s)·Rᵀ: U[:, r] = L[:, r], Vᵀ[r, :] = R[:, r].
      for (let i = 0; i < m; i++) u[i * k + r] = left[r * len + i] as number;
      vt.set(right.subarray(r * k, r * k + n), r * n);
    } else {
      // T = Aᵀ, so A = R·diag(s)·Lᵀ: U[:, r] = R[:, r], Vᵀ[r, :] = L[:, r].
      for (let i = 0; i < m; i++) u[i * k + r] = right[r * k + i] as number;
      vt.set(left.subarray(r * len, r * len + n), r * n);
    }
  return { m, n, k, u, s, vt };
}

/** x ← x·2^e, in two steps so that neither factor overflows (|e| ≤ 2100). */
function scaleBy(x: Float64Array, e: number): void {
  const a = 2 ** Math.trunc(e / 2);
  const b = 2 ** (e - Math.trunc(e / 2));
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * a * b;
}

/**
 * The SVD T = L·diag(s)·Rᵀ of a tall matrix T (len ≥ cols, `w` column after column; overwritten),
 * with L and R column after column and s descending. Preconditioned as LAPACK's dgejsv is
 * (Drmač & Veselić 2008): Householder QR with column pivoting, T·P = Q·R_T, then one-sided Jacobi on
 * R_Tᵀ (cols×cols, its columns already nearly orthogonal: fewer sweeps, and short columns):
 * R_Tᵀ = U_x·diag(s)·V_xᵀ, so T = (Q·V_x)·diag(s)·(P·U_x)ᵀ.
 */
function tallSvd(w: Float64Array, len: number, cols: number, wasm: boolean) {
  const { tau, perm } = pivotedQr(w, len, cols);
  // SIMD columns are padded with zeros to a multiple of 4 values (jacobi-wasm.ts).
  const stride = wasm ? Math.ceil(cols / 4) * 4 : cols;
  const ops: JacobiOps = wasm ? new JacobiMemory(cols, stride) : new JsJacobi(cols);
  const x = ops.w; // column i of R_Tᵀ is row i of R_T
  for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) x[i * stride + j] = w[j * len + i] as number;
  const vx = ops.v;
  for (let j = 0; j < cols; j++) vx[j * stride + j] = 1;
  jacobi(ops, cols);

  const sigma = new Float64Array(cols);
  for (let j = 0; j < cols; j++) sigma[j] = Math.sqrt(ops.dotW(j, j));
  // Descending, ties by column index, so the order is deterministic.
  const order = Array.from({ length: cols }, (_, j) => j).sort(
    (p, q) => (sigma[q] as number) - (sigma[p] as number) || p - q,
  );
  // U_x: the normalized columns, completed where a column is zero.
  const ux = new Float64Array(cols * cols);
  const zero: number[] = [];
  order.forEach((j, r) => {
    const sj = sigma[j] as number;
    if (sj === 0) zero.push(r);
    else for (let i = 0; i < cols; i++) ux[r * cols + i] = (x[j * stride + i] as number) / sj;
  });
  complete(ux, cols, cols, zero);
  const right = new Float64Array(cols * cols);
  for (let r = 0; r < cols; r++)
    for (let i = 0; i < cols; i++) right[r * cols + (perm[i] as number)] = ux[r * cols + i] as number;
  // L = Q·V_x: each column of V_x, padded with zeros to len, through H_{cols−1}, …, H_0.
  const left = new Float64Array(len * cols);
  order.forEach((j, r) => {
    left.set(vx.subarray(j * stride, j * stride + cols), r * len);
    for (let h = cols - 1; h >= 0; h--) reflect(w, h * len, tau[h] as number, left, r * len, h, len);
  });
  return { left, s: Float64Array.from(order, (j) => sigma[j] as number), right };
}

/**
 * Householder QR with column pivoting (LAPACK's dgeqp3, norms recomputed at every step): T·P = Q·R,
 * R on and above the diagonal of `w`, the reflectors' vectors below it (v_j = 1 at j implied),
 * H_j = I − tau_j·v_j·v_jᵀ; perm[i] is the column of T at position i.
 */
function pivotedQr(w: Float64Array, len: number, cols: number) {
  const tau = new Float64Array(cols);
  const perm = Int32Array.from({ length: cols }, (_, i) => i);
  for (let j = 0; j < cols; j++) {
    let best = j;
    let bestNorm = -1;
    for (let c = j; c < cols; c++) {
      const nc = dot(w, c * len + j, w, c * len + j, len - j);
      if (nc > bestNorm) [best, bestNorm] = [c, nc];
    }
    if (best !== j) {
      for (let i = 0; i < len; i++) {
        const t = w[j * len + i] as number;
        w[j * len + i] = w[best * len + i] as number;
        w[best * len + i] = t;
      }
      [perm[j], perm[best]] = [perm[best] as number, perm[j] as number];
    }
    const o = j * len;
    const x0 = w[o + j] as number;
    const tail = Math.sqrt(dot(w, o + j + 1, w, o + j + 1, len - j - 1));
    if (tail === 0) continue; // H_j = I (tau 0), as dlarfg
    const beta = -(x0 >= 0 ? 1 : -1) * Math.hypot(x0, tail);
    tau[j] = (beta - x0) / beta;
    const scale = 1 / (x0 - beta);
    for (let i = j + 1; i < len; i++) w[o + i] = (w[o + i] as number) * scale;
    w[o + j] = beta;
    for (let c = j + 1; c < cols; c++) reflect(w, o, tau[j] as number, w, c * len, j, len);
  }
  return { tau, perm };
}

/** y ← H·y for H = I − tau·v·vᵀ, v = (0…0, 1, w[vo+j+1 … vo+len)) (entries j…len of y change). */
function reflect(
  w: Float64Array,
  vo: number,
  tau: number,
  y: Float64Array,
  yo: number,
  j: number,
  len: number,
) {
  if (tau === 0) return;
  let d = y[yo + j] as number;
  for (let i = j + 1; i < len; i++) d += (w[vo + i] as number) * (y[yo + i] as number);
  d *= tau;
  y[yo + j] = (y[yo + j] as number) - d;
  for (let i = j + 1; i < len; i++) y[yo + i] = (y[yo + i] as number) - d * (w[vo + i] as number);
}

/**
 * ⟨x, y⟩ over `len` values in four partial sums (element i into sum i mod 4), added as
 * (s0 + s2) + (s1 + s3): four independent add chains instead of one (a dot product is bound by the
 * add's latency), and the order of the two f64x2 accumulators of ./jacobi-wasm.ts.
 */
function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < len; i += 4) {
    s0 += (x[xo + i] as number) * (y[yo + i] as number);
    s1 += (x[xo + i + 1] as number) * (y[yo + i + 1] as number);
    s2 += (x[xo + i + 2] as number) * (y[yo + i + 2] as number);
    s3 += (x[xo + i + 3] as number) * (y[yo + i + 3] as number);
  }
  if (i < len) s0 += (x[xo + i] as number) * (y[yo + i] as number);
  if (i + 1 < len) s1 += (x[xo + i + 1] as number) * (y[yo + i + 1] as number);
  if (i + 2 < len) s2 += (x[xo + i + 2] as number) * (y[yo + i + 2] as number);
  return s0 + s2 + (s1 + s3);
}

/** x ← c·x − s·y, y ← s·x + c·y over `len` values. */
function rotate(z: Float64Array, xo: number, yo: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const x = z[xo + i] as number;
    const y = z[yo + i] as number;
    z[xo + i] = c * x - s * y;
    z[yo + i] = s * x + c * y;
  }
}

/** The sweeps' matrices (cols×cols, column j at j·stride) and their two loops. */
interface JacobiOps {
  readonly w: Float64Array;
  readonly v: Float64Array;
  dotW(p: number, q: number): number;
  rotate(p: number, q: number, c: number, s: number): void;
}

/** The JavaScript loops (stride = cols). */
class JsJacobi implements JacobiOps {
  readonly w: Float64Array;
  readonly v: Float64Array;
  constructor(private readonly cols: number) {
    this.w = new Float64Array(cols * cols);
    this.v = new Float64Array(cols * cols);
  }
  dotW(p: number, q: number): number {
    return dot(this.w, p * this.cols, this.w, q * this.cols, this.cols);
  }
  rotate(p: number, q: number, c: number, s: number): void {
    rotate(this.w, p * this.cols, q * this.cols, this.cols, c, s);
    rotate(this.v, p * this.cols, q * this.cols, this.cols, c, s);
  }
}

/**
 * Cyclic one-sided Jacobi: for every column pair (p, q) with |⟨w_p, w_q⟩| > tol·‖w_p‖‖w_q‖, the
 * rotation that makes them orthogonal; until a sweep rotates nothing. The squared norms are kept
 * up to date by the rotation's closed form and recomputed at every sweep's start.
 */
function jacobi(ops: JacobiOps, cols: number): void {
  // ~sqrt(cols)·ε: the rounding of a dot product of that length (the columns') in the typical case; a
  // pair below it is orthogonal to working precision (LAPACK's dgesvj uses the same threshold).
  const tol = Math.max(1, Math.sqrt(cols)) * Number.EPSILON;
  const norms = new Float64Array(cols);
  for (let sweep = 0; ; sweep++) {
    if (sweep === MAX_SWEEPS) throw new SvdError(`svd: no convergence after ${MAX_SWEEPS} sweeps`);
    for (let j = 0; j < cols; j++) norms[j] = ops.dotW(j, j);
    let rotated = false;
    // Pairs in blocks of BLOCK columns, block pair by block pair, so the columns being rotated stay
    // in cache (a 1024-column sweep otherwise streams every column from memory once per column).
    for (let bp = 0; bp < cols; bp += BLOCK)
      for (let bq = bp; bq < cols; bq += BLOCK)
        for (let p = bp; p < Math.min(bp + BLOCK, cols); p++)
          for (let q = Math.max(bq, p + 1); q < Math.min(bq + BLOCK, cols); q++) {
            const alpha = norms[p] as number;
            const beta = norms[q] as number;
            if (alpha === 0 || beta === 0) continue;
            const gamma = ops.dotW(p, q);
            if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
            rotated = true;
            const zeta = (beta - alpha) / (2 * gamma);
            // The smaller root of t² + 2ζt − 1 = 0 (|angle| ≤ π/4), without overflow for a huge ζ.
            const t =
              Math.abs(zeta) > 1e150
                ? 1 / (2 * zeta)
                : (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
            const c = 1 / Math.sqrt(1 + t * t);
            const s = c * t;
            ops.rotate(p, q, c, s);
            norms[p] = Math.max(0, alpha - t * gamma);
            norms[q] = beta + t * gamma;
          }
    if (!rotated) return;
  }
}

/**
 * Fills the listed columns of the orthonormal set `q` (`cols` columns of length `len`) with unit
 * vectors orthogonal to the others: e₀, e₁, … in turn, Gram-Schmidt'ed twice against every column
 * already set, kept when over half of it is left.
 */
function complete(q: Float64Array, len: number, cols: number, missing: readonly number[]): void {
  if (missing.length === 0) return;
  const set = Array.from({ length: cols }, (_, j) => !missing.includes(j));
  const x = new Float64Array(len);
  let e = 0;
  for (const r of missing) {
    for (; ; e++) {
      if (e === len) throw new SvdError('svd: cannot complete the singular vectors');
      x.fill(0);
      x[e] = 1;
      for (let pass = 0; pass < 2; pass++)
        for (let j = 0; j < cols; j++) {
          if (!set[j]) continue;
          const d = dot(q, j * len, x, 0, len);
          for (let i = 0; i < len; i++) x[i] = (x[i] as number) - d * (q[j * len + i] as number);
        }
      const norm = Math.sqrt(dot(x, 0, x, 0, len));
      if (norm > 0.5) {
        for (let i = 0; i < len; i++) q[r * len + i] = (x[i] as number) / norm;
        set[r] = true;
        e++;
        break;
      }
    }
  }
}

/** C = A·B for row-major A (m×k) and B (k×n), accumulated in k order. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p] as number;
      if (aip === 0) continue;
      const co = i * n;
      const bo = p * n;
      for (let j = 0; j < n; j++) c[co + j] = (c[co + j] as number) + aip * (b[bo + j] as number);
    }
  return c;
}

/**
 * The orthogonal polar factor U·Vᵀ of a thin SVD (the nearest matrix with orthonormal columns or
 * rows), as the references write it: `u, s, vh = svd(X); u @ vh`.
 */
export function polar(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const d = svd(a, m, n);
  return matmul(d.u, d.vt, m, d.k, n);
}
