// mergekit `linear` (LinearMergeTask.execute), element-wise: Σ_t w_t·θ_t in task order, divided by
// Σ_t w_t when `normalize` (the base takes no part). CPU twin of the GPU program
// src/gpu/programs/linear-mix.ts (shaders/merge/linear_mix.wgsl): each product, each partial sum
// (from +0) and the quotient round to f32 in this order, never fused, so both give the same bits.

const fr = Math.fround;

export interface LinearMixInput {
  /** θ_t per task, task order, in f32. */
  readonly tasks: readonly Float32Array[];
  /** w_t per task. */
  readonly weights: readonly number[];
  readonly normalize: boolean;
}

/** Σ_t w_t in f32, in task order: the divisor of `normalize` (0 is kept: the quotients are then ±∞/NaN). */
export function linearTotal(weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total = fr(total + fr(w));
  return total;
}

export function linearMix(x: LinearMixInput): Float32Array {
  const n = x.tasks[0]?.length ?? 0;
  const out = new Float32Array(n);
  x.tasks.forEach((task, t) => {
    const w = fr(x.weights[t] as number);
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) + fr(w * (task[i] as number));
  });
  if (x.normalize) {
    const total = linearTotal(x.weights);
    for (let i = 0; i < n; i++) out[i] = (out[i] as number) / total;
  }
  return out;
}
