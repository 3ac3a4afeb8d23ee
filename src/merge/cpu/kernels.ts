// CPU twins of the merge kernels: element-wise over one chunk, in f32 arithmetic (Math.fround after
// every operation, as a GPU does it), tasks visited in task order so sums round identically on
// both engines. Sums that feed the rescalers accumulate in f64.
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
}

export const maskWords = (n: number) => Math.ceil(n / 32);

/**
 * Elect, Mask (and the sums for Rescale) over one chunk.
 * s = +1 where mean_t(τ_t) > 0 else −1; ε = max |τ_t| over tasks with τ_t·s > 0 (0 if none);
 * M_t = (τ_t·s > 0), strictly.
 * Loops run task by task over contiguous elements (tight, cache-friendly loops the JIT compiles
 * well); the per-element sum still adds the tasks in task order.
 */
export function emrChunk(base: Float32Array, tasks: readonly Float32Array[], n: number): EmrChunkOut {
  const numTasks = tasks.length;
  const words = maskWords(n);
  const masks = new Uint32Array(numTasks * words);
  const sumAbsTau = new Float64Array(numTasks);
  const sumAbsMasked = new Float64Array(numTasks);
  // Pass 1: Σ_t τ_t in task order (f32), and which elements have a positive / negative τ
  // (branch-free: random signs would make a branch mispredict half the time).
  const sum = new Float32Array(n);
  const pos = new Uint8Array(n);
  const neg = new Uint8Array(n);
  for (const task of tasks) {
    for (let i = 0; i < n; i++) {
      const d = fr((task[i] as number) - (base[i] as number));
      sum[i] = (sum[i] as number) + d; // stored as f32: rounds like an f32 add
      pos[i] = (pos[i] as number) | +(d > 0);
      neg[i] = (neg[i] as number) | +(d < 0);
    }
  }
  let conflicts = 0;
  // Pass 2: the elected sign, kept as ±1 in `sum` (an f32 mean > 0 iff its f32 sum / N > 0).
  for (let i = 0; i < n; i++) {
    sum[i] = fr((sum[i] as number) / numTasks) > 0 ? 1 : -1;
    conflicts += (pos[i] as number) & (neg[i] as number);
  }
  const sign = sum;
  // Pass 3: masks, ε and Σ|τ_t|, task by task. For an agreeing task |τ_t| = s·τ_t > 0 and for
  // the others s·τ_t ≤ 0, so ε = max(0, max_t s·τ_t); NaN never compares greater, as in the reference.
  const eps = new Float32Array(n);
  for (let t = 0; t < numTasks; t++) {
    const task = tasks[t] as Float32Array;
    let absSum = 0;
    const maskBase = t * words;
    for (let w = 0; w < words; w++) {
      let word = 0;
      const end = Math.min(n, (w + 1) * 32);
      for (let i = w * 32, bit = 0; i < end; i++, bit++) {
        const d = fr((task[i] as number) - (base[i] as number));
        absSum += Math.abs(d);
        const v = d * (sign[i] as number);
        word |= +(v > 0) << bit;
        if (v > (eps[i] as number)) eps[i] = v;
      }
      masks[maskBase + w] = word >>> 0;
    }
    sumAbsTau[t] = absSum;
  }
  // Pass 4: τ_uni and Σ|M_t ⊙ τ_uni| from the final ε.
  const tauUni = new Float32Array(n);
  for (let i = 0; i < n; i++) tauUni[i] = (sign[i] as number) * (eps[i] as number);
  for (let t = 0; t < numTasks; t++) {
    let masked = 0;
    const maskBase = t * words;
    for (let w = 0; w < words; w++) {
      let word = masks[maskBase + w] as number;
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        masked += eps[w * 32 + bit] as number;
        word &= word - 1;
      }
    }
    sumAbsMasked[t] = masked;
  }
  return { tauUni, masks, sumAbsTau, sumAbsMasked, conflicts };
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
  return { merged, signSum, pending };
}
