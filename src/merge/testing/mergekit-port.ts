// A naive TypeScript port of mergekit's torch code (arcee-ai/mergekit: mergekit/sparsify.py,
// mergekit/merge_methods/generalized_task_arithmetic.py, linear.py), whole tensors and sorts, shaped
// like the Python, for the tests of ../mergekit to be held to. Arithmetic is float64 except where
// mergekit's own steps round to the tensor's f32: τ = x − base (a subtraction of f32 tensors), the
// Bernoulli probabilities (`torch.full_like(..., dtype=float32)`, DELLA's f32 rank arithmetic) —
// those decide which elements are kept. Where torch is unspecified or fails, the port says what it
// does instead, matching what docs/merge.md documents:
// - torch.argsort's order among equal |τ| is unspecified: ties here go by index (the later element
//   ranks higher), NaN ranks above +∞ (torch sorts NaN last);
// - torch.bernoulli's bits come from torch's generator: here from `uniform(task, i)` (../mergekit/rng);
// - `magnitude` asserts k > 0: k = 0 keeps nothing here;
// - DELLA's rank normalization divides 0 by 0 on a one-element row: p = density here.
import { streamKey, uniformAt } from '../mergekit/rng';
import { GTA_METHODS, type GtaMethod, type ModelParams } from '../mergekit/spec';

const fr = Math.fround;

/** |τ| as torch orders it for argsort, ties by index: negative when a ranks below b. */
function ascending(tau: Float32Array): (a: number, b: number) => number {
  const key = (i: number) => {
    const v = Math.abs(tau[i] as number);
    return Number.isNaN(v) ? Infinity : v;
  };
  const nan = (i: number) => +Number.isNaN(tau[i] as number);
  return (a, b) => nan(a) - nan(b) || key(a) - key(b) || a - b;
}

/** sparsify.rescaled_masked_tensor with norm l1 (or none). */
export function rescaledMaskedTensor(tensor: Float32Array, mask: Uint8Array, l1: boolean): Float64Array {
  const masked = Float64Array.from(tensor, (x, i) => x * (mask[i] as number));
  if (!l1) return masked;
  const before = tensor.reduce((a, x) => a + Math.abs(x), 0);
  const after = masked.reduce((a, x) => a + Math.abs(x), 0);
  if (before < 1e-7 || after < 1e-7) return masked;
  return masked.map((x) => x * (before / after));
}

/** sparsify.magnitude: argsort(|τ|, descending)[:k] kept. Returns the mask. */
export function magnitudeMask(tensor: Float32Array, density: number): Uint8Array {
  const k = Math.trunc(density * tensor.length);
  const cmp = ascending(tensor);
  const order = Array.from(tensor.keys()).sort((a, b) => cmp(b, a)); // descending
  const mask = new Uint8Array(tensor.length);
  for (const i of order.slice(0, k)) mask[i] = 1;
  return mask;
}

/**
 * sparsify.magnitude_outliers: indices = sort(|τ|).indices; mask[indices[n_bot:-n_top]] = 1.
 * `pythonSlice` keeps Python's reading of `-n_top` when n_top is 0 (an empty slice: nothing kept,
 * which ../mergekit does not reproduce, docs/merge.md); false reads it as "to the end".
 */
export function outliersMask(
  tensor: Float32Array,
  density: number,
  gamma: number,
  pythonSlice = true,
): Uint8Array {
  const n = tensor.length;
  const target = Math.trunc(density * n);
  let nTop = Math.trunc(gamma * n);
  let nBot = n - target - nTop;
  if (nBot < 0) {
    nTop += nBot;
    nBot = 0;
  }
  const indices = Array.from(tensor.keys()).sort(ascending(tensor));
  const end = nTop === 0 ? (pythonSlice ? 0 : n) : n - nTop;
  const mask = new Uint8Array(n);
  for (const i of indices.slice(nBot, end)) mask[i] = 1;
  return mask;
}

/** sparsify.bernoulli: mask = bernoulli(full_like(τ, density, float32)). */
export function bernoulliMask(n: number, density: number, uniform: (i: number) => number): Uint8Array {
  const p = fr(density);
  return Uint8Array.from({ length: n }, (_, i) => +(uniform(i) < p));
}

/** sparsify.della_magprune's mask: ranks along dim 1, probs = (density − ε) + rank_norm·2·ε. */
export function dellaMask(
  tensor: Float32Array,
  shape: readonly number[],
  density: number,
  epsilon: number,
  uniform: (i: number) => number,
): Uint8Array {
  // `if len(tensor.shape) < 2: tensor = tensor.unsqueeze(0)`; dims [d0, d1, rest…]
  const dims = shape.length < 2 ? [1, tensor.length] : shape;
  const d1 = dims[1] as number;
  const rest = dims.slice(2).reduce((a, d) => a * d, 1);
  const mask = new Uint8Array(tensor.length);
  for (let i0 = 0; i0 < (dims[0] as number); i0++)
    for (let r = 0; r < rest; r++) {
      const at = (j: number) => i0 * d1 * rest + j * rest + r;
      const row = Float32Array.from({ length: d1 }, (_, j) => tensor[at(j)] as number);
      const sorted = Array.from(row.keys()).sort(ascending(row)); // argsort(dim=1)
      const ranks = new Float32Array(d1);
      sorted.forEach((j, pos) => (ranks[j] = pos + 1)); // argsort().argsort() + 1
      const min = Math.min(...ranks);
      const max = Math.max(...ranks);
      for (let j = 0; j < d1; j++) {
        const norm =
          max > min ? Math.min(1, Math.max(0, fr(fr((ranks[j] as number) - min) / fr(max - min)))) : 0.5;
        const p = fr(fr(density - epsilon) + fr(fr(norm * 2) * fr(epsilon)));
        mask[at(j)] = +(uniform(at(j)) < p);
      }
    }
  return mask;
}

export interface PortArgs {
  readonly name: string;
  readonly shape: readonly number[];
  readonly base: Float32Array;
  readonly tasks: readonly Float32Array[];
  readonly params: readonly ModelParams[];
}

/** GTATask.execute for one tensor (get_task_vectors, sparsify, get_mask(method="sum"), mixing). */
export function gtaExecute(
  method: GtaMethod,
  settings: { normalize: boolean; rescale: boolean; lambda: number; seed: number },
  a: PortArgs,
): Float64Array {
  const m = GTA_METHODS[method];
  const n = a.base.length;
  const deltas = a.tasks.map((x, t) => {
    const delta = Float32Array.from(x, (v, i) => v - (a.base[i] as number));
    const p = a.params[t] as ModelParams;
    if (!m.sparsification || p.density >= 1) return Float64Array.from(delta);
    const key = streamKey(settings.seed, a.name, t);
    const uniform = (i: number) => uniformAt(key, i);
    let mask: Uint8Array;
    switch (m.sparsification) {
      case 'magnitude':
        mask = magnitudeMask(delta, p.density);
        break;
      case 'magnitude_outliers':
        mask = outliersMask(delta, p.density, p.gamma, false);
        break;
      case 'random':
        mask = bernoulliMask(n, p.density, uniform);
        break;
      case 'della_magprune':
        if (p.density <= 0) return new Float64Array(n);
        mask = dellaMask(delta, a.shape, p.density, p.epsilon, uniform);
    }
    return rescaledMaskedTensor(delta, mask, settings.rescale);
  });
  const weights = a.params.map((p) => p.weight);
  const weighted = deltas.map((d, t) => d.map((x) => x * (weights[t] as number)));
  const mixed = new Float64Array(n);
  const divisor = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (m.consensus) {
      const signWeight = weighted.reduce((s, w) => s + (w[i] as number), 0);
      const majority = signWeight >= 0 ? 1 : -1;
      weighted.forEach((w, t) => {
        const agree = Math.sign(w[i] as number) === majority ? 1 : 0;
        mixed[i] = (mixed[i] as number) + (w[i] as number) * agree;
        divisor[i] = (divisor[i] as number) + (weights[t] as number) * agree;
      });
      if (divisor[i] === 0) divisor[i] = 1;
    } else {
      mixed[i] = weighted.reduce((s, w) => s + (w[i] as number), 0);
      const total = weights.reduce((s, w) => s + w, 0);
      divisor[i] = Math.abs(total) < 1e-8 ? 1 : total;
    }
    if (settings.normalize) mixed[i] = (mixed[i] as number) / (divisor[i] as number);
    if (settings.lambda !== 1) mixed[i] = (mixed[i] as number) * settings.lambda;
  }
  return mixed.map((x, i) => (a.base[i] as number) + x);
}

/** LinearMergeTask.execute over the task models (the base is no input of `linear`). */
export function linearExecute(normalize: boolean, a: PortArgs): Float64Array {
  const weights = a.params.map((p) => p.weight);
  const res = new Float64Array(a.base.length).map((_, i) =>
    a.tasks.reduce((s, x, t) => s + (weights[t] as number) * (x[i] as number), 0),
  );
  const total = weights.reduce((s, w) => s + w, 0);
  return normalize ? res.map((x) => x / total) : res;
}

/** ModelStockMergeTask.execute: offsets, mean pairwise cosine along dim −1, t, w_h. */
export function modelStockExecute(filterWise: boolean, a: PortArgs): Float64Array {
  const n = a.base.length;
  // filter_wise: rows along the last dimension (a 1-D tensor unsqueezed to one row); else view(-1).
  const rowLength = filterWise ? (a.shape[a.shape.length - 1] as number) : n;
  const N = a.tasks.length;
  const offsets = a.tasks.map((w) => Float32Array.from(w, (x, i) => x - (a.base[i] as number)));
  const res = new Float64Array(n);
  for (let r = 0; r < n / rowLength; r++) {
    const seg = (v: Float32Array) => Array.from(v.subarray(r * rowLength, (r + 1) * rowLength));
    const cosThetas: number[] = [];
    for (let i = 0; i < N; i++)
      for (let j = i + 1; j < N; j++) {
        const x = seg(offsets[i] as Float32Array);
        const y = seg(offsets[j] as Float32Array);
        const norm = (v: number[]) => Math.sqrt(v.reduce((s, e) => s + e * e, 0));
        const dot = x.reduce((s, e, k) => s + e * (y[k] as number), 0);
        cosThetas.push(Math.min(1, Math.max(-1, dot / Math.max(norm(x) * norm(y), 1e-6))));
      }
    const cos = cosThetas.reduce((s, c) => s + c, 0) / cosThetas.length;
    const t = (N * cos) / (1 + (N - 1) * cos);
    for (let k = r * rowLength; k < (r + 1) * rowLength; k++) {
      const avg = a.tasks.reduce((s, w) => s + (w[k] as number), 0) / N;
      res[k] = t * avg + (1 - t) * (a.base[k] as number);
    }
  }
  return res;
}
