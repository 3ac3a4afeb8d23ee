// CPU kernels of mergekit's spherical interpolations, over one whole shared tensor in f32:
//   slerp      — mergekit/merge_methods/slerp.py `slerp` (numpy, f32 arrays, `t` a Python float),
//   multislerp — mergekit/merge_methods/multislerp.py `multislerp` (torch f32),
//   nuslerp    — mergekit/merge_methods/nuslerp.py `nuslerp` with NuSlerpTask.execute's `t` (torch f32).
// Each step rounds to f32 where mergekit's does, and in mergekit's precision where it does not
// (numpy 1.x computes slerp's θ_t, s0 and s1 in f64). Whole-vector reductions (norms, dot
// products) accumulate in f64 and are rounded once: numpy's and torch's f32 reductions use
// blocked orders of their own, so those sums agree with mergekit's to f32 rounding, not bit for
// bit. The element-wise combinations (./slerp-mix) are the GPU programs' CPU twins.
import { combine2, type Combine2 } from './slerp-mix';

const fr = Math.fround;

/** Σ x_i·y_i over [start, end) with stride, in f64, rounded to f32 once. */
function dot(x: Float32Array, y: Float32Array, idx: readonly number[]): number {
  let s = 0;
  for (const i of idx) s += (x[i] as number) * (y[i] as number);
  return fr(s);
}

const norm = (x: Float32Array, idx: readonly number[]) => fr(Math.sqrt(dot(x, x, idx)));

/**
 * mergekit `slerp(t, v0, v1)` with DOT_THRESHOLD 0.9995 and eps 1e-8: v0 is the base model's
 * tensor, v1 the other's. The directions are v/‖v‖ (left as they are when ‖v‖ ≤ eps); when
 * |v̂0·v̂1| > 0.9995 the result is lerp: (1 − t)·v0 + t·v1 with both factors rounded to f32 (numpy
 * casts a Python float to the array's f32). Otherwise θ₀ = acos(dot), sin θ₀ in f32 (numpy's f32
 * scalars) and θ_t = θ₀·t, s0 = sin(θ₀ − θ_t)/sin θ₀, s1 = sin θ_t/sin θ₀ in f64 (numpy 1.x
 * promotes an f32 scalar times a Python float to f64), then s0·v0 + s1·v1 with s0, s1 cast to f32.
 */
export function slerpFactors(t: number, v0: Float32Array, v1: Float32Array): Combine2 {
  const all = range(v0.length);
  const n0 = norm(v0, all);
  const n1 = norm(v1, all);
  // np.sum(normalize(v0) * normalize(v1)): each product of the f32 quotients, summed once.
  let s = 0;
  for (let i = 0; i < v0.length; i++) {
    const a = n0 > 1e-8 ? fr((v0[i] as number) / n0) : (v0[i] as number);
    const b = n1 > 1e-8 ? fr((v1[i] as number) / n1) : (v1[i] as number);
    s += fr(a * b);
  }
  const d = fr(s);
  if (Math.abs(d) > 0.9995) return { a: fr(1 - t), b: fr(t) };
  const theta0 = fr(Math.acos(d));
  const sin0 = fr(Math.sin(theta0));
  const thetaT = theta0 * t;
  return { a: fr(Math.sin(theta0 - thetaT) / sin0), b: fr(Math.sin(thetaT) / sin0) };
}

export function slerpTensor(t: number, v0: Float32Array, v1: Float32Array): Float32Array {
  return combine2(slerpFactors(t, v0, v1), v0, v1);
}

/**
 * mergekit `nuslerp(t, v0, v1, dim, flatten=…)` (eps 1e-8; its `_normalize` clamps ‖v‖ to ≥ 1e-7):
 * `flatten` interpolates the whole tensor as one vector; otherwise each vector along the last
 * dimension (`row_wise` false: dim −1) or along the first (`row_wise`: dim 0, moved last by
 * `transpose(0, −1)`). Per vector: cos θ = Σ v̂0·v̂1, θ = acos(clamp(cos, −1, 1)) and sin θ in f32;
 * where |sin θ| < 1e-8 the vector is lerp (1 − t)·v0 + t·v1, else
 * (sin((1 − t)·θ)·v0 + sin(t·θ)·v1) / sin θ — each factor in f32, t as torch casts it.
 */
export function nuslerpTensor(
  t: number,
  v0: Float32Array,
  v1: Float32Array,
  shape: readonly number[],
  rowWise: boolean,
  flatten: boolean,
): Float32Array {
  const out = new Float32Array(v0.length);
  for (const idx of nuslerpVectors(v0.length, shape, rowWise, flatten)) {
    const f = nuslerpFactors(t, v0, v1, idx);
    combine2(f, v0, v1, out, idx);
  }
  return out;
}

/** The element indices of each vector nuslerp interpolates (see nuslerpTensor). */
export function nuslerpVectors(
  n: number,
  shape: readonly number[],
  rowWise: boolean,
  flatten: boolean,
): number[][] {
  if (flatten || shape.length < 2) return [range(n)];
  const first = shape[0] as number;
  const last = shape[shape.length - 1] as number;
  const vectors: number[][] = [];
  if (!rowWise) {
    for (let start = 0; start < n; start += last) vectors.push(range(last, start));
    return vectors;
  }
  // transpose(0, −1): a vector runs along dim 0 with every other index fixed, dims 1..k−2 included.
  const middle = n / (first * last);
  for (let l = 0; l < last; l++)
    for (let m = 0; m < middle; m++)
      vectors.push(Array.from({ length: first }, (_, f) => (f * middle + m) * last + l));
  return vectors;
}

/** The factors nuslerp gives one vector: the lerp's when sin θ is near 0, else the slerp's ÷ sin θ. */
export function nuslerpFactors(
  t: number,
  v0: Float32Array,
  v1: Float32Array,
  idx: readonly number[],
): Combine2 & { divide?: number } {
  const n0 = Math.max(norm(v0, idx), fr(1e-7));
  const n1 = Math.max(norm(v1, idx), fr(1e-7));
  let s = 0;
  for (const i of idx) s += fr(fr((v0[i] as number) / n0) * fr((v1[i] as number) / n1));
  const cos = Math.min(1, Math.max(-1, fr(s)));
  const theta = fr(Math.acos(cos));
  const sin = fr(Math.sin(theta));
  const tf = fr(t);
  const rest = fr(1 - t);
  if (Math.abs(sin) < 1e-8) return { a: rest, b: tf };
  return {
    a: fr(Math.sin(fr(rest * theta))),
    b: fr(Math.sin(fr(tf * theta))),
    divide: sin,
  };
}

/** NuSlerpTask.execute's t from the two models' weights: w₁/(w₀ + w₁), or ½ when |w₀ + w₁| < 1e-6. */
export function nuslerpT(w0: number, w1: number): number {
  const sum = w0 + w1;
  return Math.abs(sum) < 1e-6 ? 0.5 : w1 / sum;
}

/**
 * mergekit `multislerp(tensors, weight, base_tensor, normalize_weights, eps)`: the models (less the
 * base, when there is one) are projected on the unit sphere (÷ (‖x‖ + eps)), their weighted mean m
 * normalised, each projected to the tangent space at m, mixed by weight, mapped back by the
 * exponential map and scaled by the weighted mean norm. Two models whose mean is ~0 fall back to
 * w₀·x₀ + w₁·x₁; more models there are refused (mergekit raises).
 */
export function multislerpTensor(
  tensors: readonly Float32Array[],
  weight: readonly number[],
  base: Float32Array | undefined,
  normalizeWeights: boolean,
  eps: number,
): Float32Array {
  const n = (tensors[0] as Float32Array).length;
  if (tensors.length === 1) return (tensors[0] as Float32Array).slice();
  const xs = tensors.map((x) => {
    if (!base) return x;
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = (x[i] as number) - (base[i] as number);
    return d;
  });
  let w = weight.map(fr);
  if (normalizeWeights) {
    let total = 0;
    for (const v of w) total = fr(total + v);
    w = w.map((v) => fr(v / total));
  }
  const e = fr(eps);
  const all = range(n);
  const norms = xs.map((x) => norm(x, all));
  const units = xs.map((x, k) => {
    const d = fr((norms[k] as number) + e);
    return x.map((v) => v / d);
  });
  const mean = weightedSum(units, w, n);
  const meanNorm = norm(mean, all);
  if (meanNorm < e) {
    if (xs.length !== 2)
      throw new RangeError(
        'multislerp: the weighted sum of the input tensors is zero (antipodal vectors with weights that balance out); try other weights',
      );
    const out = weightedSum(xs, w, n);
    return base ? addBase(out, base) : out;
  }
  for (let i = 0; i < n; i++) mean[i] = (mean[i] as number) / meanNorm;
  const tangents = units.map((u) => {
    const d = dot(u, mean, all);
    return u.map((v, i) => v - fr(d * (mean[i] as number)));
  });
  const tangent = weightedSum(tangents, w, n);
  const tn = fr(norm(tangent, all) + e);
  const c = fr(Math.cos(tn));
  const s = fr(fr(Math.sin(tn)) / tn);
  let avgNorm = 0;
  norms.forEach((v, k) => (avgNorm = fr(avgNorm + fr(v * (w[k] as number)))));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = fr(fr((mean[i] as number) * c) + fr((tangent[i] as number) * s)) * avgNorm;
  return base ? addBase(out, base) : out;
}

/** Σ_k w_k·x_k element-wise in f32, models in order (torch's sum over dim 0 of a small stack). */
function weightedSum(xs: readonly Float32Array[], w: readonly number[], n: number): Float32Array {
  const out = new Float32Array(n);
  xs.forEach((x, k) => {
    const wk = w[k] as number;
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) + fr((x[i] as number) * wk);
  });
  return out;
}

function addBase(x: Float32Array, base: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (base[i] as number);
  return x;
}

const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => start + i);
