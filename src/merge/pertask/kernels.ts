// CPU kernels of the per-task methods, element-wise in f32 (Math.fround after every operation, as
// torch computes them on f32 tensors), each one the port of a named function of the original code:
//   nik-dim/tall_masks   src/eval/aggregation.py (τ_MTL: sum, or ties_merging(…, "dis-sum")),
//                        src/utils/tallmask_utils.py generate_task_masks / construct_consensus_mask,
//                        src/eval/eval.py evaluate (τ ⊙ mask applied to θ₀ at scaling 1.0)
//   lfy-123/Binary-Task-Switch merge_vit/merge_vit.py process_matrix, binarize_matrix,
//                        load_task_vector
// Masks and sign bits use the EMR layout: bit i in word i >> 5 at bit i & 31.

const fr = Math.fround;

const setBit = (words: Uint32Array, offset: number, i: number) => {
  words[offset + (i >>> 5)] = ((words[offset + (i >>> 5)] as number) | (1 << (i & 31))) >>> 0;
};
export const bitAt = (words: Uint32Array, offset: number, i: number): number =>
  ((words[offset + (i >>> 5)] as number) >>> (i & 31)) & 1;

/** aggregation.py, Task Arithmetic: `tv_flat_checks.sum(dim=0)` — Σ_t (θ_t − θ₀), task order, from +0. */
export function taSum(base: Float32Array, tasks: readonly Float32Array[], n: number): Float32Array {
  const sum = new Float32Array(n);
  for (const task of tasks)
    for (let i = 0; i < n; i++)
      sum[i] = fr((sum[i] as number) + fr((task[i] as number) - (base[i] as number)));
  return sum;
}

export interface TiesSumOut {
  readonly tau: Float32Array;
  /** Σ of the elected signs (0 where the trimmed sum is 0), for the model-wide majority sign. */
  readonly signSum: number;
  /** Elements whose trimmed sum is exactly 0 with entries kept: their value waits for the majority. */
  readonly pending: readonly { index: number; ifPositive: number; ifNotPositive: number }[];
}

/**
 * ties_utils.py ties_merging(τ, reset_thresh=20, merge_func="dis-sum"): keep |τ_t| ≥ threshold_t
 * (topk_values_mask), elect sign(Σ kept) (resolve_sign; 0 → the model-wide majority), and sum the
 * kept entries that agree with it (disjoint_merge "sum"). NaN is never kept, as the studio's TIES.
 */
export function tiesSum(
  base: Float32Array,
  tasks: readonly Float32Array[],
  n: number,
  thresholds: Float32Array,
): TiesSumOut {
  const tau = new Float32Array(n);
  const pending: { index: number; ifPositive: number; ifNotPositive: number }[] = [];
  let signSum = 0;
  for (let i = 0; i < n; i++) {
    const b = base[i] as number;
    let sum = 0;
    let pos = 0;
    let neg = 0;
    let kept = 0;
    for (let t = 0; t < tasks.length; t++) {
      const d = fr(((tasks[t] as Float32Array)[i] as number) - b);
      if (!(Math.abs(d) >= (thresholds[t] as number))) continue;
      sum = fr(sum + d);
      if (d > 0) pos = fr(pos + d);
      else if (d < 0) neg = fr(neg + d);
      kept += +(d !== 0);
    }
    if (sum > 0) {
      signSum++;
      tau[i] = pos;
    } else if (sum < 0) {
      signSum--;
      tau[i] = neg;
    } else {
      tau[i] = neg;
      if (kept) pending.push({ index: i, ifPositive: pos, ifNotPositive: neg });
    }
  }
  return { tau, signSum, pending };
}

/**
 * generate_task_masks: m_t = |θ₀ − θ_t| > |(θ₀ + τ_MTL) − θ_t| · λ_t, strictly, computed on the
 * weights as the original does (not on τ_t and τ_MTL − τ_t, which round differently).
 */
export function tallMaskBit(b: number, x: number, tau: number, lambda32: number): boolean {
  const dPtFt = Math.abs(fr(b - x));
  const dMultiFt = Math.abs(fr(fr(b + tau) - x));
  return dPtFt > fr(dMultiFt * lambda32);
}

/** Task t's TALL mask over a tensor, into `out` at `offsetWords` (zeroed there first). */
export function tallMask(
  base: Float32Array,
  task: Float32Array,
  tau: Float32Array,
  n: number,
  lambda: number,
  out: Uint32Array,
  offsetWords: number,
): number {
  const l = fr(lambda);
  out.fill(0, offsetWords, offsetWords + Math.ceil(n / 32));
  let ones = 0;
  for (let i = 0; i < n; i++)
    if (tallMaskBit(base[i] as number, task[i] as number, tau[i] as number, l)) {
      setBit(out, offsetWords, i);
      ones++;
    }
  return ones;
}

/** construct_consensus_mask: Σ_t m_t ≥ prun_thre_k. */
export function consensusMask(masks: Uint32Array, numTasks: number, n: number, k: number): Uint32Array {
  const words = Math.ceil(n / 32);
  const out = new Uint32Array(words);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let t = 0; t < numTasks; t++) count += bitAt(masks, t * words, i);
    if (count >= k) setBit(out, 0, i);
  }
  return out;
}

/**
 * eval.py evaluate / TaskVector.apply_to: θ₀ + α·(τ ⊙ m), with τ ⊙ m as torch's `τ * mask`
 * (τ·0 where the bit is off: ±0, NaN for a non-finite τ) and α as an f32 (1.0 for TALL masks).
 */
export function maskedReconstruct(
  base: Float32Array,
  tau: Float32Array,
  mask: Uint32Array,
  maskOffsetWords: number,
  alpha: number,
): Float32Array<ArrayBuffer> {
  const n = base.length;
  const a = fr(alpha);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = tau[i] as number;
    const v = bitAt(mask, maskOffsetWords, i) ? t : t * 0;
    out[i] = fr((base[i] as number) + fr(a * v));
  }
  return out;
}

export interface TSwitchTensor {
  /** Bits: the element survived the drop and is non-zero. */
  readonly keep: Uint32Array;
  /** Bits: the kept element is negative. */
  readonly sign: Uint32Array;
  /** ‖τ'‖₂ / ‖sign(τ')‖₂ in f32; a 0-dim tensor's own τ (kept raw, as the original does). */
  readonly scale: number;
  /** Ones in `keep`. */
  readonly kept: number;
}

/** process_matrix's threshold: the `keep`-th largest of `values` (all > 0), or 0 to keep them all. */
function keepThreshold(values: Float32Array, dropRatio: number): number {
  const k = dropRatio > 1 ? dropRatio / 100 : dropRatio;
  if (!values.length) return 0;
  const keep = Math.trunc(values.length * (1 - k)); // int(len * (1 - k)), in doubles as Python
  if (keep <= 0) return 0; // "Too few … elements": the original then keeps all of them
  values.sort();
  return values[values.length - keep] as number;
}

/**
 * merge_vit.py drop_elements_separately + binarize_matrix for one tensor of one task: the positive
 * and the negative entries of τ each keep their top (1 − drop ratio) by magnitude (ties at the
 * threshold kept), then τ' becomes sign(τ')·‖τ'‖₂/‖sign(τ')‖₂. A 0-dim tensor is neither dropped
 * nor binarised (`dim() >= 1` is false): its τ is stored as the scale with its keep bit on.
 */
export function tSwitchTensor(
  base: Float32Array,
  task: Float32Array,
  n: number,
  dropRatio: number,
  scalar: boolean,
): TSwitchTensor {
  const words = Math.ceil(n / 32);
  const keep = new Uint32Array(words);
  const sign = new Uint32Array(words);
  if (scalar) {
    if (n) setBit(keep, 0, 0);
    return { keep, sign, scale: n ? fr((task[0] as number) - (base[0] as number)) : 0, kept: n ? 1 : 0 };
  }
  const { tau, tp, tn } = tSwitchThresholds(base, task, n, dropRatio);
  tSwitchBits(base, task, n, tp, tn, keep, sign);
  return { keep, sign, ...tSwitchScale(tau, keep, n) };
}

/**
 * drop_elements_separately's first half for a tensor of dim ≥ 1: τ = θ_t − θ₀ (f32) and the
 * thresholds of its positive and negative entries (process_matrix, which sorts: on the CPU).
 */
export function tSwitchThresholds(
  base: Float32Array,
  task: Float32Array,
  n: number,
  dropRatio: number,
): { tau: Float32Array; tp: number; tn: number } {
  const tau = new Float32Array(n);
  let np = 0;
  let nn = 0;
  for (let i = 0; i < n; i++) {
    const x = (tau[i] = (task[i] as number) - (base[i] as number));
    np += +(x > 0);
    nn += +(x < 0);
  }
  const pos = new Float32Array(np);
  const neg = new Float32Array(nn);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    const x = tau[i] as number;
    if (x > 0) pos[p++] = x;
    else if (x < 0) neg[q++] = -x;
  }
  return { tau, tp: keepThreshold(pos, dropRatio), tn: keepThreshold(neg, dropRatio) };
}

/** binarize_matrix's scalar from τ and the keep bits of the bit pass (tSwitchBits), and their ones. */
export function tSwitchScale(
  tau: Float32Array,
  keep: Uint32Array,
  n: number,
): { scale: number; kept: number } {
  let kept = 0;
  const dropped = new Float32Array(n);
  for (let i = 0; i < n; i++)
    if (bitAt(keep, 0, i)) {
      dropped[i] = tau[i] as number;
      kept++;
    }
  // torch.norm(τ', 2) / torch.norm(sign, 2); an all-zero τ' is skipped by the original (scale unused).
  return { scale: kept ? fr(torchNorm2(dropped) / fr(Math.sqrt(kept))) : 0, kept };
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/**
 * process_matrix's element-wise pass, given the thresholds: τ = θ_t − θ₀ kept where τ > 0 and
 * τ ≥ tp, or τ < 0 and −τ ≥ tn (0: keep every one of that sign); sign bit where kept and negative.
 * Into `keep` and `sign` (zeroed first), bit i at word i >> 5. CPU twin of the GPU's binarise pass.
 */
export function tSwitchBits(
  base: Float32Array,
  task: Float32Array,
  n: number,
  tp: number,
  tn: number,
  keep: Uint32Array,
  sign: Uint32Array,
): void {
  keep.fill(0, 0, Math.ceil(n / 32));
  sign.fill(0, 0, Math.ceil(n / 32));
  for (let i = 0; i < n; i++) {
    const x = fr((task[i] as number) - (base[i] as number));
    if ((x > 0 && x >= tp) || (x < 0 && -x >= tn)) {
      setBit(keep, 0, i);
      if (x < 0) setBit(sign, 0, i);
    }
  }
}

/** fma(a, a, c) rounded once to f32: a·a is exact in f64, the sum is rounded to odd, then to f32. */
function fmaSquare32(a: number, c: number): number {
  const p = a * a;
  const s = p + c;
  const bp = s - c;
  const err = p - bp + (c - (s - bp)); // twoSum: s + err = p + c exactly
  if (err === 0 || !Number.isFinite(s)) return fr(s);
  f64[0] = s;
  if (((u64[0] as bigint) & 1n) === 0n) u64[0] = (u64[0] as bigint) + (err > 0 === s > 0 ? 1n : -1n);
  return fr(f64[0] as number);
}

/**
 * torch.norm(x, p=2) of an f32 tensor as torch 1.13 computes it on the CPU (the vectorised
 * reduce-last-dim path of norm_kernel_tensor_iterator_impl with 8 f32 lanes): lane j accumulates
 * fma(x, x, acc) over elements 8i + j, the lanes are summed in order, the tail is fma'd into that
 * sum, then an f32 sqrt. (Equal to the f64 sum rounded in most cases, and 1 ulp off in some.)
 */
export function torchNorm2(x: Float32Array): number {
  const n = x.length;
  const lanes = [0, 0, 0, 0, 0, 0, 0, 0];
  let d = 0;
  for (; d < n - (n % 8); d += 8)
    for (let j = 0; j < 8; j++) lanes[j] = fmaSquare32(x[d + j] as number, lanes[j] as number);
  let b = lanes[0] as number;
  for (let j = 1; j < 8; j++) b = fr(b + (lanes[j] as number));
  for (; d < n; d++) b = fmaSquare32(x[d] as number, b);
  return fr(Math.sqrt(b));
}

/** load_task_vector: θ₀ + b·s with b = +1, −1 or 0 from the keep and sign bits (b·s in f32). */
export function tSwitchReconstruct(
  base: Float32Array,
  keep: Uint32Array,
  sign: Uint32Array,
  offsetWords: number,
  scale: number,
): Float32Array<ArrayBuffer> {
  const n = base.length;
  const s = fr(scale);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = bitAt(keep, offsetWords, i) ? (bitAt(sign, offsetWords, i) ? -1 : 1) : 0;
    out[i] = fr((base[i] as number) + fr(b * s));
  }
  return out;
}
