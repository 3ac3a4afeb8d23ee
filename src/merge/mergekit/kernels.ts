// CPU kernels of mergekit's per-tensor merges, over one whole shared tensor in f32 (what mergekit
// computes on an f32 checkpoint; f16/bf16 inputs are widened exactly, where mergekit would compute
// in their own dtype): generalized task arithmetic (GTATask.execute in
// mergekit/merge_methods/generalized_task_arithmetic.py) and `linear` (LinearMergeTask.execute).
// Every operation rounds to f32 and sums over tasks go in task order.
import { gtaMix, type GtaMixInput } from './gta-mix';
import { linearMix, type LinearMixInput } from './linear-mix';
import { stockBlend, type StockBlendInput } from './stock-blend';
import { streamKey } from './rng';
import { dellaProbabilities, rescaleMasked, sparsify } from './sparsify';
import { GTA_METHODS, type GtaMethod, type ModelParams } from './spec';

const fr = Math.fround;

export interface TensorArgs {
  readonly name: string;
  readonly shape: readonly number[];
  readonly base: Float32Array;
  /** Task order. */
  readonly tasks: readonly Float32Array[];
  /** Per task, resolved (spec.resolveModel). */
  readonly params: readonly ModelParams[];
}

export interface GtaSettings {
  readonly name: GtaMethod;
  readonly normalize: boolean;
  readonly rescale: boolean;
  readonly lambda: number;
  readonly seed: number;
}

/** θ₀ + λ·(mixed Δ, normalized by the agreeing weights or all weights) for one tensor. */
export function gtaTensor(s: GtaSettings, a: TensorArgs): Float32Array {
  return gtaMix(gtaMixInput(s, a));
}

/** The sparsified, weighted task vectors of one tensor and what the mix needs (./gta-mix). */
export function gtaMixInput(s: GtaSettings, a: TensorArgs): GtaMixInput {
  const method = GTA_METHODS[s.name];
  const sparse = taskVectors(a).map((tau, t) => {
    const p = a.params[t] as ModelParams;
    if (!method.sparsification) return tau;
    return sparsify(tau, {
      method: method.sparsification,
      density: p.density,
      gamma: p.gamma,
      epsilon: p.epsilon,
      rescale: s.rescale,
      shape: a.shape,
      key: streamKey(s.seed, a.name, t),
    });
  });
  return weigh(s, a, sparse);
}

/**
 * gtaMixInput with DARE's and DELLA's random drops (τ ⊙ Bernoulli(p)) by `drop` — an engine's program
 * (the GPU's) — and the rest as there; the same bits as gtaMixInput when `drop` is randomDrop's twin.
 */
export async function gtaMixInputWith(
  s: GtaSettings,
  a: TensorArgs,
  drop: (tau: Float32Array, key: number, p: number | Float32Array) => Promise<Float32Array>,
): Promise<GtaMixInput> {
  const how = GTA_METHODS[s.name].sparsification;
  if (how !== 'random' && how !== 'della_magprune') return gtaMixInput(s, a);
  const sparse = await Promise.all(
    taskVectors(a).map(async (tau, t) => {
      const p = a.params[t] as ModelParams;
      if (p.density >= 1) return tau; // mergekit's sparsify leaves τ as it is (no rescale)
      if (how === 'della_magprune' && p.density <= 0) return new Float32Array(tau.length);
      // DELLA's probabilities come from ranks along dim 1: a whole-tensor statistic, on the CPU.
      const probs = how === 'random' ? p.density : dellaProbabilities(tau, a.shape, p.density, p.epsilon);
      return rescaleMasked(tau, await drop(tau, streamKey(s.seed, a.name, t), probs), s.rescale);
    }),
  );
  return weigh(s, a, sparse);
}

/** θ_t − θ₀ per task, in f32. */
function taskVectors(a: TensorArgs): Float32Array[] {
  const n = a.base.length;
  return a.tasks.map((task) => {
    const tau = new Float32Array(n);
    for (let i = 0; i < n; i++) tau[i] = (task[i] as number) - (a.base[i] as number);
    return tau;
  });
}

/** w_t · sparsified τ_t, and the mix's settings. */
function weigh(s: GtaSettings, a: TensorArgs, sparse: readonly Float32Array[]): GtaMixInput {
  const n = a.base.length;
  const weighted = sparse.map((tau, t) => {
    const w = fr((a.params[t] as ModelParams).weight);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (tau[i] as number) * w;
    return out;
  });
  return {
    base: a.base,
    weighted,
    weights: a.params.map((p) => fr(p.weight)),
    consensus: GTA_METHODS[s.name].consensus,
    normalize: s.normalize,
    lambda: s.lambda,
  };
}

/** mergekit `linear`: Σ_t w_t·θ_t, divided by Σ_t w_t when `normalize` (the base takes no part). */
export function linearTensor(normalize: boolean, a: TensorArgs): Float32Array {
  return linearMix(linearMixInput(normalize, a));
}

/** linear's element-wise input (./linear-mix): the tasks themselves and their weights. */
export function linearMixInput(normalize: boolean, a: TensorArgs): LinearMixInput {
  return { tasks: a.tasks, weights: a.params.map((p) => p.weight), normalize };
}

/**
 * mergekit `model_stock` (ModelStockMergeTask.execute): per vector — the whole tensor, or with
 * `filterWise` each row along the last dimension (a 1-D tensor is one row) — cos θ is the mean over
 * task pairs of the cosine between their offsets θ_t − θ₀ (norm product clamped to ≥ 1e-6, cosine
 * to [−1, 1]); t = N·cos θ / (1 + (N − 1)·cos θ); the merge is t·mean_t θ_t + (1 − t)·θ₀ (./stock-blend).
 */
export function modelStockTensor(filterWise: boolean, a: TensorArgs): Float32Array {
  return stockBlend(modelStockInput(filterWise, a));
}

/**
 * model_stock's t per row, from the cosines: the whole-vector part, on the CPU under either engine.
 * Dot products and norms accumulate in f64 and are rounded once (torch reduces in f32).
 */
export function modelStockInput(filterWise: boolean, a: TensorArgs): StockBlendInput {
  const n = a.base.length;
  const numTasks = a.tasks.length;
  const row = filterWise && a.shape.length >= 1 ? (a.shape[a.shape.length - 1] as number) : n;
  const offsets = a.tasks.map((task) => {
    const o = new Float32Array(n);
    for (let i = 0; i < n; i++) o[i] = (task[i] as number) - (a.base[i] as number);
    return o;
  });
  const t = new Float32Array(row > 0 ? Math.ceil(n / row) : 0);
  for (let r = 0, start = 0; start < n; r++, start += row) {
    const end = start + row;
    const dot = (x: Float32Array, y: Float32Array) => {
      let s = 0;
      for (let i = start; i < end; i++) s += (x[i] as number) * (y[i] as number);
      return fr(s);
    };
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < numTasks; i++)
      for (let j = i + 1; j < numTasks; j++) {
        const oi = offsets[i] as Float32Array;
        const oj = offsets[j] as Float32Array;
        const norms = fr(fr(Math.sqrt(dot(oi, oi))) * fr(Math.sqrt(dot(oj, oj))));
        const cos = fr(dot(oi, oj) / Math.max(norms, fr(1e-6)));
        sum = fr(sum + Math.min(1, Math.max(-1, cos)));
        pairs++;
      }
    const cos = fr(sum / pairs);
    t[r] = fr(fr(numTasks * cos) / fr(1 + fr((numTasks - 1) * cos)));
  }
  return { base: a.base, tasks: a.tasks, row, t };
}
