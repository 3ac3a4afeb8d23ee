// CPU twins of the merge kernels: element-wise over one chunk, in f32 arithmetic (Math.fround after
// every operation, as a GPU does it), tasks visited in task order so sums round identically on
// both engines. Sums that feed the rescalers accumulate in f64, in SUM_LANES partial sums.
//
// `tasks` is the N task chunks, one array each (the GPU packs them into one buffer, task t's
// element i at t·n + i). Masks are one bit per element, bit i of a task's mask in word i >> 5 at
// bit i & 31, the N tasks' words back to back (task t's words at t·⌈n/32⌉), on both engines.

const fr = Math.fround;

export interface EmrChunkOut {
  /** τ_uni = s·ε for every element of the chunk. */
  readonly tauUni: Float32Array<ArrayBuffer>;
  /** N × ⌈n/32⌉ words: task t's mask M_t = (τ_t·s > 0). */
  readonly masks: Uint32Array<ArrayBuffer>;
  /** Per task Σ|τ_t| over the chunk. */
  readonly sumAbsTau: Float64Array<ArrayBuffer>;
  /** Per task Σ|M_t ⊙ τ_uni| over the chunk. */
  readonly sumAbsMasked: Float64Array<ArrayBuffer>;
  /** Elements where some task's τ is > 0 and another's < 0. */
  readonly conflicts: number;
  /** NaN/±∞ elements as read: the base's, then each task's (1 + N counts). */
  readonly nonFinite: Uint32Array<ArrayBuffer>;
}

/** Averaging's or Task Arithmetic's merged values for a chunk, with the inputs' NaN/±∞ counts. */
export interface LinearChunkOut {
  readonly merged: Float32Array<ArrayBuffer>;
  /** As EmrChunkOut.nonFinite. */
  readonly nonFinite: Uint32Array<ArrayBuffer>;
}

/** NaN and ±∞ among the first `n` values. */
export function countNonFinite(values: Float32Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) count += +!Number.isFinite(values[i] as number);
  return count;
}

/** The base's, then each task's NaN/±∞ count over a chunk's first `n` elements. */
export function nonFiniteCounts(
  base: Float32Array,
  tasks: readonly Float32Array[],
  n: number,
): Uint32Array<ArrayBuffer> {
  return Uint32Array.from([base, ...tasks], (v) => countNonFinite(v, n));
}

/** Whether every one of the first `n` values is finite (x·0 is NaN for NaN and ±∞: no branch). */
export function allFinite(values: ArrayLike<number>, n = values.length): boolean {
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] as number) * 0;
  return s === 0;
}

/**
 * nonFiniteCounts, skipped when `clean`: a result that a NaN/±∞ in any input would have made
 * non-finite came out finite (Σ|τ_t| for EMR, the merged values for Task Arithmetic), so the
 * inputs need no pass of their own — one only when there is something to count.
 */
export function nonFiniteCountsUnless(
  clean: boolean,
  base: Float32Array,
  tasks: readonly Float32Array[],
  n: number,
): Uint32Array<ArrayBuffer> {
  return clean ? new Uint32Array(1 + tasks.length) : nonFiniteCounts(base, tasks, n);
}

export const maskWords = (n: number) => Math.ceil(n / 32);

/**
 * A chunk's f64 sums for the rescalers are SUM_LANES partial sums — element i in partial
 * i mod SUM_LANES, element order within each — added up in partial order. Eight independent
 * additions at a time, not one chain: the SIMD twin (./wasm/wasm-kernels.ts) was bound by the
 * latency of one f64 add per element (docs/benchmarks.md). Any order is as exact as another.
 */
export const SUM_LANES = 8;

/**
 * The total of the SUM_LANES partial sums at `at`, in partial order (a zero partial adds nothing:
 * sums are ≥ 0 or NaN). Both twins reduce through it (../wasm/elect-call.ts for the SIMD kernel).
 */
export function lanesTotal(partials: Float64Array, at = 0): number {
  let s = 0;
  for (let lane = 0; lane < SUM_LANES; lane++) s += partials[at + lane] as number;
  return s;
}

/**
 * Elect, Mask (and the sums for Rescale) over one chunk.
 * s = +1 where mean_t(τ_t) > 0 else −1; ε = max |τ_t| over tasks with τ_t·s > 0 (0 if none);
 * M_t = (τ_t·s > 0), strictly.
 * For an agreeing task |τ_t| = s·τ_t > 0 and for the others s·τ_t ≤ 0, so with v_t = s·τ_t:
 * ε = max(0, max_t v_t), M_t = (v_t > 0), and an element has a sign conflict iff some v_t > 0 and
 * some v_t < 0. Each step is its own small loop over contiguous elements: V8 compiles such loops
 * several times faster than one loop doing everything (measured), and no step branches on data.
 */
export function emrChunk(base: Float32Array, tasks: readonly Float32Array[], n: number): EmrChunkOut {
  const numTasks = tasks.length;
  const words = maskWords(n);
  const masks = new Uint32Array(numTasks * words);
  const sumAbsTau = new Float64Array(numTasks);
  const sumAbsMasked = new Float64Array(numTasks);
  const sign = new Float32Array(n);
  for (const task of tasks) addTaskVector(task, base, sign, n);
  electSigns(sign, n, numTasks);
  const v = new Float32Array(n);
  const eps = new Float32Array(n);
  const disagrees = new Uint8Array(n);
  for (let t = 0; t < numTasks; t++) {
    sumAbsTau[t] = agreement(tasks[t] as Float32Array, base, sign, v, n);
    foldExtremes(new Int32Array(v.buffer, 0, n), new Int32Array(eps.buffer, 0, n), disagrees, n);
    packPositive(v, n, masks, t * words);
  }
  const tauUni = new Float32Array(n);
  const conflicts = unify(sign, eps, disagrees, tauUni, n);
  for (let t = 0; t < numTasks; t++) sumAbsMasked[t] = maskedSum(masks, t * words, eps, n);
  // A NaN/±∞ in task t or the base makes Σ|τ_t| non-finite (f64 sums of finite f32 never overflow).
  const clean = numTasks > 0 && allFinite(sumAbsTau);
  return {
    tauUni,
    masks,
    sumAbsTau,
    sumAbsMasked,
    conflicts,
    nonFinite: nonFiniteCountsUnless(clean, base, tasks, n),
  };
}

/** sum += θ_t − θ₀, both roundings in f32 (the store into a Float32Array rounds the add). */
function addTaskVector(task: Float32Array, base: Float32Array, sum: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) sum[i] = (sum[i] as number) + fr((task[i] as number) - (base[i] as number));
}

/** In place: Σ → ±1, +1 where the f32 mean Σ/N is > 0, i.e. where Σ ≥ the least such Σ (no division, no branch). */
function electSigns(sum: Float32Array, n: number, numTasks: number): void {
  const least = leastPositiveMeanSum(numTasks);
  for (let i = 0; i < n; i++) sum[i] = +((sum[i] as number) >= least) * 2 - 1;
}

/** The least f32 Σ > 0 whose f32 mean Σ/N is > 0 (only tiny subnormal sums round to a zero mean). */
export function leastPositiveMeanSum(numTasks: number): number {
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  let lo = 1; // smallest positive subnormal
  let hi = 0x7f7fffff; // largest finite: its mean is certainly > 0
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    bits[0] = mid;
    if (fr((f[0] as number) / numTasks) > 0) hi = mid;
    else lo = mid + 1;
  }
  bits[0] = lo;
  return f[0] as number;
}

/**
 * v = s·τ_t for every element, NaN stored as 0 (a NaN τ neither wins ε, nor sets a mask bit, nor
 * counts as disagreeing: as in the reference, where every comparison with NaN is false);
 * returns Σ|τ_t| in f64 (NaN included, as torch.mean would give), in SUM_LANES partials.
 */
function agreement(
  task: Float32Array,
  base: Float32Array,
  sign: Float32Array,
  v: Float32Array,
  n: number,
): number {
  const partials = new Float64Array(SUM_LANES);
  for (let i = 0; i < n; i++) {
    const x = fr((task[i] as number) - (base[i] as number)) * (sign[i] as number);
    v[i] = x === x ? x : 0;
    const k = i % SUM_LANES;
    partials[k] = (partials[k] as number) + Math.abs(x);
  }
  return lanesTotal(partials);
}

/**
 * ε = max(ε, v) and disagrees |= (v < 0), without data-dependent branches (random signs would
 * mispredict): on the f32 bit patterns as int32, non-negative floats order like their integers and
 * negative ones are negative integers, so an integer max is the float max once ε ≥ 0.
 */
const NEGATIVE_ZERO_BITS = -0x80000000;

function foldExtremes(v: Int32Array, eps: Int32Array, disagrees: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = v[i] as number;
    const e = eps[i] as number;
    eps[i] = e ^ ((x ^ e) & -(x > e));
    disagrees[i] = (disagrees[i] as number) | (+(x < 0) & +(x !== NEGATIVE_ZERO_BITS)); // v < 0, not −0
  }
}

/** Bit i of the mask = (v[i] > 0), 32 elements a word. */
function packPositive(v: Float32Array, n: number, masks: Uint32Array, offset: number): void {
  const full = n >>> 5;
  for (let w = 0; w < full; w++) {
    let word = 0;
    const o = w * 32;
    for (let b = 0; b < 32; b++) word |= +((v[o + b] as number) > 0) << b;
    masks[offset + w] = word;
  }
  if (n & 31) {
    let word = 0;
    for (let i = full * 32, b = 0; i < n; i++, b++) word |= +((v[i] as number) > 0) << b;
    masks[offset + full] = word;
  }
}

/** τ_uni = s·ε; returns the number of elements with a sign conflict (some v > 0, some v < 0). */
function unify(
  sign: Float32Array,
  eps: Float32Array,
  disagrees: Uint8Array,
  tauUni: Float32Array,
  n: number,
): number {
  let conflicts = 0;
  for (let i = 0; i < n; i++) {
    const e = eps[i] as number;
    tauUni[i] = (sign[i] as number) * e;
    conflicts += +(e > 0) & (disagrees[i] as number);
  }
  return conflicts;
}

/** Σ_i M_t[i]·ε[i] (f64, in SUM_LANES partials): |M_t ⊙ τ_uni| summed. */
function maskedSum(masks: Uint32Array, offset: number, eps: Float32Array, n: number): number {
  const partials = new Float64Array(SUM_LANES);
  for (let i = 0; i < n; i++) {
    const k = i % SUM_LANES;
    const bit = ((masks[offset + (i >>> 5)] as number) >>> (i & 31)) & 1;
    partials[k] = (partials[k] as number) + (eps[i] as number) * bit;
  }
  return lanesTotal(partials);
}

/** Task t's model for one chunk: θ₀ + λ_t·(M_t ⊙ τ_uni), λ applied as an f32. */
export function emrReconstruct(
  base: Float32Array,
  tauUni: Float32Array,
  mask: Uint32Array,
  maskOffsetWords: number,
  lambda: number,
): Float32Array<ArrayBuffer> {
  const n = base.length;
  const l = fr(lambda);
  const out = new Float32Array(base);
  for (let w = 0, words = maskWords(n); w < words; w++) {
    let word = mask[maskOffsetWords + w] as number;
    while (word !== 0) {
      const i = w * 32 + 31 - Math.clz32(word & -word);
      if (i >= n) break; // bits past the chunk belong to the next one
      out[i] = (base[i] as number) + fr(l * (tauUni[i] as number));
      word &= word - 1;
    }
  }
  return out;
}

/** Weight averaging: mean_t θ_t (summed in task order, then divided). */
export function averageChunk(tasks: readonly Float32Array[], n: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (const task of tasks) for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (task[i] as number);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / tasks.length;
  return out;
}

/** Task Arithmetic: θ₀ + λ·Σ_t τ_t. */
export function taskArithmeticChunk(
  base: Float32Array,
  tasks: readonly Float32Array[],
  n: number,
  lambda: number,
): Float32Array<ArrayBuffer> {
  const l = fr(lambda);
  const sum = new Float32Array(n);
  for (const task of tasks)
    for (let i = 0; i < n; i++) sum[i] = (sum[i] as number) + fr((task[i] as number) - (base[i] as number));
  for (let i = 0; i < n; i++) sum[i] = (base[i] as number) + fr(l * (sum[i] as number));
  return sum;
}

/**
 * Histogram of |τ_t| per task by the bits of the f32 magnitude (monotonic in the value for
 * non-negative floats). Level 0 counts the high 16 bits; level 1 counts the low 16 bits of the
 * values whose high bits equal `prefix[t]`. Two levels find the exact k-th value (radix select).
 * `counts` is N × 65 536, added to in place.
 */
export function absHistogramChunk(
  base: Float32Array,
  tasks: readonly Float32Array[],
  n: number,
  level: 0 | 1,
  prefix: Uint32Array | undefined,
  counts: Uint32Array,
): void {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  tasks.forEach((task, t) => {
    const offset = t * 65536;
    const want = prefix?.[t] ?? 0;
    for (let i = 0; i < n; i++) {
      f[0] = Math.abs((task[i] as number) - (base[i] as number)); // rounds to f32 on store
      const bits = u[0] as number;
      const bin = level === 0 ? bits >>> 16 : bits >>> 16 === want ? bits & 0xffff : -1;
      if (bin >= 0) counts[offset + bin] = (counts[offset + bin] as number) + 1;
    }
  });
}

export interface TiesChunkOut {
  /** θ₀ + λ·(disjoint mean), with the elected sign; elements whose trimmed sum is exactly 0 are pending. */
  readonly merged: Float32Array<ArrayBuffer>;
  /** Σ of the elected signs (+1/−1, 0 where the trimmed sum is 0), for the global "majority" sign. */
  readonly signSum: number;
  /** Elements whose trimmed sum is exactly 0 but that have trimmed entries: their value waits for the majority. */
  readonly pending: readonly { index: number; ifPositive: number; ifNotPositive: number }[];
  /** As EmrChunkOut.nonFinite. */
  readonly nonFinite: Uint32Array<ArrayBuffer>;
}

/**
 * TIES-Merging over one chunk, given each task's magnitude threshold (keep |τ_t| ≥ threshold_t).
 * Elected sign = sign(Σ trimmed); where that is 0 the model-wide majority decides, as in the
 * reference: positive majority keeps the positive entries, otherwise the negative ones.
 */
export function tiesChunk(
  base: Float32Array,
  tasks: readonly Float32Array[],
  n: number,
  thresholds: Float32Array,
  lambda: number,
): TiesChunkOut {
  const l = fr(lambda);
  const merged = new Float32Array(n);
  const pending: { index: number; ifPositive: number; ifNotPositive: number }[] = [];
  let signSum = 0;
  for (let i = 0; i < n; i++) {
    const b = base[i] as number;
    let sum = 0;
    let posSum = 0;
    let posCount = 0;
    let negSum = 0;
    let negCount = 0;
    for (let t = 0; t < tasks.length; t++) {
      const d = fr(((tasks[t] as Float32Array)[i] as number) - b);
      if (!(Math.abs(d) >= (thresholds[t] as number))) continue; // trimmed (NaN never kept)
      sum = fr(sum + d);
      if (d > 0) {
        posSum = fr(posSum + d);
        posCount++;
      } else if (d < 0) {
        negSum = fr(negSum + d);
        negCount++;
      }
    }
    const meanPos = posCount ? fr(posSum / posCount) : 0;
    const meanNeg = negCount ? fr(negSum / negCount) : 0;
    if (sum > 0) {
      signSum++;
      merged[i] = fr(b + fr(l * meanPos));
    } else if (sum < 0) {
      signSum--;
      merged[i] = fr(b + fr(l * meanNeg));
    } else {
      merged[i] = fr(b + fr(l * meanNeg)); // replaced below unless the majority is not positive
      if (posCount || negCount) {
        pending.push({
          index: i,
          ifPositive: fr(b + fr(l * meanPos)),
          ifNotPositive: fr(b + fr(l * meanNeg)),
        });
      }
    }
  }
  return { merged, signSum, pending, nonFinite: nonFiniteCounts(base, tasks, n) };
}
