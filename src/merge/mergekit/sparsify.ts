// CPU kernels of mergekit's sparsification (mergekit/sparsify.py), over one whole tensor's task
// vector τ in f32: `magnitude` (keep the top `density`), `magnitude_outliers` (drop the `gamma`
// largest, keep `density`), `random` (Bernoulli(density)) and `della_magprune` (Bernoulli with
// probabilities ranked by magnitude along dim 1), each optionally rescaled to τ's L1 norm.
//
// mergekit ranks with torch.argsort, whose order among equal |τ| is unspecified; here ranks follow
// one total order — ascending |τ| (NaN above +∞, as torch sorts it), then ascending index — so the
// top-k keeps, among equal magnitudes at the boundary, the later elements. Ranks are found by an
// exact two-level radix select over the f32 bits of |τ| (|τ|'s bit patterns order as its values),
// O(n) per tensor: no sort of the whole tensor.
import { uniformAt } from './rng';
import type { Sparsification } from './spec';

const fr = Math.fround;

/** The bit pattern of |τ| per element: unsigned order = magnitude order, NaN above +∞. */
export function absKeys(tau: Float32Array): Uint32Array {
  const bits = new Uint32Array(tau.buffer.slice(tau.byteOffset, tau.byteOffset + tau.byteLength));
  for (let i = 0; i < bits.length; i++) bits[i] = (bits[i] as number) & 0x7fffffff;
  return bits;
}

/** The key at 0-based rank r in ascending order, and how many keys are smaller than it. */
export function selectRank(keys: Uint32Array, r: number): { key: number; less: number } {
  const high = new Uint32Array(65536);
  for (let i = 0; i < keys.length; i++) (high[(keys[i] as number) >>> 16] as number)++;
  let less = 0;
  let bin = 0;
  while (less + (high[bin] as number) <= r) less += high[bin++] as number;
  const low = new Uint32Array(65536);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as number;
    if (k >>> 16 === bin) (low[k & 0xffff] as number)++;
  }
  let lo = 0;
  while (less + (low[lo] as number) <= r) less += low[lo++] as number;
  return { key: ((bin << 16) | lo) >>> 0, less };
}

/**
 * 1 where the element's rank (ascending |τ|, then index) lies in [lo, hi). Equal keys take
 * consecutive ranks in index order, so at each boundary key the elements are counted as met.
 */
export function keepRanks(keys: Uint32Array, lo: number, hi: number): Uint8Array {
  const n = keys.length;
  const mask = new Uint8Array(n);
  lo = Math.max(0, lo);
  hi = Math.min(n, hi);
  if (lo >= hi) return mask;
  const a = selectRank(keys, lo);
  const b = selectRank(keys, hi - 1);
  let seenA = 0; // elements met so far with key a.key (the same counter when a.key === b.key)
  let seenB = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[i] as number;
    if (k > a.key && k < b.key) mask[i] = 1;
    else if (k === a.key || k === b.key) {
      const rank = k === a.key ? a.less + seenA : b.less + seenB;
      if (k === a.key) seenA++;
      if (k === b.key) seenB++;
      mask[i] = +(rank >= lo && rank < hi);
    }
  }
  return mask;
}

/** mergekit `magnitude`: keep the ⌊density·n⌋ largest |τ| (none when that is 0; mergekit asserts). */
export function magnitudeMask(tau: Float32Array, density: number): Uint8Array {
  const n = tau.length;
  const k = Math.trunc(density * n);
  return keepRanks(absKeys(tau), n - k, n);
}

/** mergekit `magnitude_outliers`: drop the ⌊gamma·n⌋ largest, then the smallest down to ⌊density·n⌋. */
export function outliersMask(tau: Float32Array, density: number, gamma: number): Uint8Array {
  const n = tau.length;
  const target = Math.trunc(density * n);
  let top = Math.trunc(gamma * n);
  let bottom = n - target - top;
  if (bottom < 0) {
    top += bottom;
    bottom = 0;
  }
  return keepRanks(absKeys(tau), bottom, n - top);
}

/** mergekit `bernoulli`: keep element i when its uniform is < density (f32), for i in [start, start + n). */
export function bernoulliMask(key: number, start: number, n: number, density: number): Uint8Array {
  const p = fr(density);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = +(uniformAt(key, start + i) < p);
  return mask;
}

/**
 * mergekit `della_magprune`'s probabilities (dellaMask draws with them): along dim 1 (a 1-D
 * tensor is one row), rank r ∈ 1..d₁ by ascending |τ|,
 * p = (density − ε) + (r − 1)/(d₁ − 1)·2ε in f32 as torch computes it, kept when the uniform < p.
 * A fiber of one element (d₁ = 1) takes p at the middle of the range (mergekit divides 0 by 0 there).
 */
export function dellaProbabilities(
  tau: Float32Array,
  shape: readonly number[],
  density: number,
  epsilon: number,
  /** Fibers shorter than this sort packed keys; longer ones by comparison (a test lowers it). */
  packedBelow = 2 ** 21,
): Float32Array {
  const n = tau.length;
  const keys = absKeys(tau);
  const d1 = shape.length < 2 ? n : (shape[1] as number);
  const inner = shape.length < 2 ? 1 : shape.slice(2).reduce((a, d) => a * d, 1);
  const fibers = d1 ? n / d1 : 0;
  const low = fr(density - epsilon);
  const eps = fr(epsilon);
  const probs = new Float32Array(n);
  const order = new Float64Array(d1);
  for (let f = 0; f < fibers; f++) {
    const first = Math.floor(f / inner) * d1 * inner + (f % inner);
    // key·2²¹ + j orders by (|τ|, j) exactly while d₁ < 2²¹; longer fibers sort by comparison.
    if (d1 < packedBelow) {
      for (let j = 0; j < d1; j++) order[j] = (keys[first + j * inner] as number) * 2 ** 21 + j;
      order.sort();
    } else {
      const js = Array.from({ length: d1 }, (_, j) => j);
      js.sort((x, y) => (keys[first + x * inner] as number) - (keys[first + y * inner] as number) || x - y);
      js.forEach((j, r) => (order[r] = j));
    }
    for (let r = 0; r < d1; r++) {
      const j = d1 < packedBelow ? (order[r] as number) % 2 ** 21 : (order[r] as number);
      const norm = d1 > 1 ? Math.min(1, Math.max(0, fr(r / fr(d1 - 1)))) : 0.5;
      const p = fr(low + fr(fr(norm * 2) * eps));
      probs[first + j * inner] = p;
    }
  }
  return probs;
}

/** Kept where element i's uniform < its probability (f32), as torch.bernoulli keeps it. */
export function dropMask(key: number, probs: Float32Array): Uint8Array {
  const mask = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) mask[i] = +(uniformAt(key, i) < (probs[i] as number));
  return mask;
}

/** DELLA's drops (see dellaProbabilities): the mask over dellaProbabilities' p. */
export function dellaMask(
  tau: Float32Array,
  shape: readonly number[],
  density: number,
  epsilon: number,
  key: number,
  packedBelow = 2 ** 21,
): Uint8Array {
  return dropMask(key, dellaProbabilities(tau, shape, density, epsilon, packedBelow));
}

/** τ ⊙ Bernoulli(p_i) per element, without rescale: the GPU drop program's CPU twin with probabilities. */
export function probabilityDrop(tau: Float32Array, key: number, probs: Float32Array): Float32Array {
  return applyMask(tau, dropMask(key, probs), false);
}

/** τ ⊙ mask, scaled to τ's L1 norm when `rescale` (mergekit `rescaled_masked_tensor`, eps 1e-7). */
export function applyMask(tau: Float32Array, mask: Uint8Array, rescale: boolean): Float32Array {
  const n = tau.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (tau[i] as number) * (mask[i] as number);
  return rescaleMasked(tau, out, rescale);
}

/** mergekit `random` without rescale: τ ⊙ Bernoulli(density) — the GPU program's CPU twin (programs/random-drop.ts). */
export function randomDrop(tau: Float32Array, key: number, density: number): Float32Array {
  return applyMask(tau, bernoulliMask(key, 0, tau.length, density), false);
}

/** The masked τ (`out`, scaled in place) matched to τ's L1 norm when `rescale`. */
export function rescaleMasked(tau: Float32Array, out: Float32Array, rescale: boolean): Float32Array {
  const n = tau.length;
  if (!rescale) return out;
  let before = 0;
  let after = 0;
  for (let i = 0; i < n; i++) {
    before += Math.abs(tau[i] as number);
    after += Math.abs(out[i] as number);
  }
  // torch sums and divides in f32; the sums here are f64, rounded once (docs/merge.md). A NaN sum
  // passes the test and makes the whole tensor NaN, as in mergekit.
  if (fr(before) < 1e-7 || fr(after) < 1e-7) return out;
  const scale = fr(fr(before) / fr(after));
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) * scale;
  return out;
}

export interface SparsifyArgs {
  readonly method: Sparsification;
  readonly density: number;
  readonly gamma: number;
  readonly epsilon: number;
  readonly rescale: boolean;
  readonly shape: readonly number[];
  /** The task's stream in this tensor (rng.streamKey). */
  readonly key: number;
}

/** mergekit `sparsify` of one task vector; density ≥ 1 returns τ itself (no rescale), as mergekit. */
export function sparsify(tau: Float32Array, a: SparsifyArgs): Float32Array {
  if (a.density >= 1) return tau;
  switch (a.method) {
    case 'magnitude':
      return applyMask(tau, magnitudeMask(tau, a.density), a.rescale);
    case 'magnitude_outliers':
      return applyMask(tau, outliersMask(tau, a.density, a.gamma), a.rescale);
    case 'random':
      return applyMask(tau, bernoulliMask(a.key, 0, tau.length, a.density), a.rescale);
    case 'della_magprune':
      if (a.density <= 0) return new Float32Array(tau.length);
      return applyMask(tau, dellaMask(tau, a.shape, a.density, a.epsilon, a.key), a.rescale);
  }
}
