// The element-wise end of mergekit's generalized task arithmetic (GTATask.execute after the
// sparsification): the sign consensus, the weighted sums, `normalize` and λ, then θ₀ + Δ. CPU twin
// of the GPU program src/gpu/programs/gta-mix.ts (shaders/merge/gta_mix.wgsl); both round every
// step to f32 in this order, so their results are equal bit for bit.

const fr = Math.fround;

export interface GtaMixInput {
  readonly base: Float32Array;
  /** w_t · sparsified τ_t per task, task order. */
  readonly weighted: readonly Float32Array[];
  /** w_t (f32) per task. */
  readonly weights: readonly number[];
  readonly consensus: boolean;
  readonly normalize: boolean;
  readonly lambda: number;
}

/** Without consensus every element divides by Σ_t w_t (f32, in task order), 1 when |Σ| < 1e-8. */
export function totalWeight(weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total = fr(total + fr(w));
  return Math.abs(total) < 1e-8 ? 1 : total;
}

/** θ₀ + λ·(mixed Δ, normalized by the agreeing weights or all weights) for one tensor. */
export function gtaMix(x: GtaMixInput): Float32Array {
  const n = x.base.length;
  const weights = x.weights.map(fr);
  const mixed = new Float32Array(n);
  const divisor = new Float32Array(n);
  if (x.consensus) {
    // get_mask(method="sum"): the majority sign is + where Σ_t weighted ≥ 0 (NaN: −), and task t
    // agrees where sign(weighted_t) equals it (a zero never does).
    const sum = new Float32Array(n);
    for (const wt of x.weighted) for (let i = 0; i < n; i++) sum[i] = (sum[i] as number) + (wt[i] as number);
    x.weighted.forEach((wt, t) => {
      const w = weights[t] as number;
      for (let i = 0; i < n; i++) {
        const v = wt[i] as number;
        const agree = (sum[i] as number) >= 0 ? v > 0 : v < 0;
        mixed[i] = (mixed[i] as number) + v * +agree; // NaN·0 stays NaN, as torch's product
        divisor[i] = (divisor[i] as number) + w * +agree;
      }
    });
    for (let i = 0; i < n; i++) if (divisor[i] === 0) divisor[i] = 1;
  } else {
    for (const wt of x.weighted)
      for (let i = 0; i < n; i++) mixed[i] = (mixed[i] as number) + (wt[i] as number);
    divisor.fill(totalWeight(weights));
  }
  const lambda = fr(x.lambda);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let m = mixed[i] as number;
    if (x.normalize) m = fr(m / (divisor[i] as number));
    if (x.lambda !== 1) m = fr(m * lambda);
    out[i] = (x.base[i] as number) + m;
  }
  return out;
}
