// CPU twins of the merge kernels: element-wise over one chunk, in f32 arithmetic (Math.fround after
// every operation, as a GPU does it), tasks visited in task order so sums round identically on
// both engines. Sums that feed the rescalers accumulate in f64.
//
// Layout shared with the GPU kernels: `tasks` holds the N task chunks back to back (task t's
// element i at t·n + i); masks are one bit per element, bit i of a task's mask in word i >> 5 at
// bit i & 31, the N tasks' words back to back (task t's words at t·⌈n/32⌉).

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
 */
export function emrChunk(base: Float32Array, tasks: Float32Array, n: number, numTasks: number): EmrChunkOut {
  const words = maskWords(n);
  const tauUni = new Float32Array(n);
  const masks = new Uint32Array(numTasks * words);
  const sumAbsTau = new Float64Array(numTasks);
  const sumAbsMasked = new Float64Array(numTasks);
  const tau = new Float32Array(numTasks);
  let conflicts = 0;
  for (let i = 0; i < n; i++) {
    const b = base[i] as number;
    let sum = 0;
    let pos = false;
    let neg = false;
    for (let t = 0; t < numTasks; t++) {
      const d = fr((tasks[t * n + i] as number) - b);
      tau[t] = d;
      sum = fr(sum + d);
      if (d > 0) pos = true;
      else if (d < 0) neg = true;
    }
    if (pos && neg) conflicts++;
    const s = fr(sum / numTasks) > 0 ? 1 : -1;
    let eps = 0;
    for (let t = 0; t < numTasks; t++) {
      const d = tau[t] as number;
      if (d * s > 0) {
        const a = Math.abs(d);
        if (a > eps) eps = a;
      }
    }
    const uni = s * eps;
    tauUni[i] = uni;
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    for (let t = 0; t < numTasks; t++) {
      const d = tau[t] as number;
      sumAbsTau[t] = (sumAbsTau[t] as number) + Math.abs(d);
      if (d * s > 0) {
        masks[t * words + word] = ((masks[t * words + word] as number) | bit) >>> 0;
        sumAbsMasked[t] = (sumAbsMasked[t] as number) + eps;
      }
    }
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
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const on = ((mask[maskOffsetWords + (i >>> 5)] as number) >>> (i & 31)) & 1;
    out[i] = on ? fr((base[i] as number) + fr(l * (tauUni[i] as number))) : (base[i] as number);
  }
  return out;
}

/** Weight averaging: mean_t θ_t (summed in task order, then divided). */
export function averageChunk(tasks: Float32Array, n: number, numTasks: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let t = 0; t < numTasks; t++) sum = fr(sum + (tasks[t * n + i] as number));
    out[i] = fr(sum / numTasks);
  }
  return out;
}

/** Task Arithmetic: θ₀ + λ·Σ_t τ_t. */
export function taskArithmeticChunk(
  base: Float32Array,
  tasks: Float32Array,
  n: number,
  numTasks: number,
  lambda: number,
): Float32Array<ArrayBuffer> {
  const l = fr(lambda);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = base[i] as number;
    let sum = 0;
    for (let t = 0; t < numTasks; t++) sum = fr(sum + fr((tasks[t * n + i] as number) - b));
    out[i] = fr(b + fr(l * sum));
  }
  return out;
}

/**
 * Histogram of |τ_t| per task by the bits of the f32 magnitude (monotonic in the value for
 * non-negative floats). Level 0 counts the high 16 bits; level 1 counts the low 16 bits of the
 * values whose high bits equal `prefix[t]`. Two levels find the exact k-th value (radix select).
 * `counts` is N × 65 536, added to in place.
 */
export function absHistogramChunk(
  base: Float32Array,
  tasks: Float32Array,
  n: number,
  numTasks: number,
  level: 0 | 1,
  prefix: Uint32Array | undefined,
  counts: Uint32Array,
): void {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let t = 0; t < numTasks; t++) {
    const offset = t * 65536;
    const want = prefix?.[t] ?? 0;
    for (let i = 0; i < n; i++) {
      f[0] = Math.abs(fr((tasks[t * n + i] as number) - (base[i] as number)));
      const bits = u[0] as number;
      const bin = level === 0 ? bits >>> 16 : bits >>> 16 === want ? bits & 0xffff : -1;
      if (bin >= 0) counts[offset + bin] = (counts[offset + bin] as number) + 1;
    }
  }
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
  tasks: Float32Array,
  n: number,
  numTasks: number,
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
    for (let t = 0; t < numTasks; t++) {
      const d = fr((tasks[t * n + i] as number) - b);
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
