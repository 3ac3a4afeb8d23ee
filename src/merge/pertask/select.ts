// The choices the original code makes on validation data, as functions of the flow that take an
// evaluator (the CLI's and the studio's ONNX evaluation on the user's labeled sets):
//   TALL masks  construct_tall_mask builds every task's mask at each λ of {0.2, …, 0.6};
//               find_optimal_mask keeps, per task, the λ whose mask scores best on that task's
//               validation set (Python's max over the dict: the first best, i.e. the smallest λ).
//   Consensus   evaluate_task_vector tries α in linspace(0, 1, 11)[1:] and find_optimal_coef keeps
//               the one with the best mean normalized accuracy (strictly better: the first best).
import type { TensorName } from '../../formats/tensor';
import type { ModelSet } from '../model-set';
import type { MaskedModulator, PerTaskResult } from './result';
import { runPerTask, type PerTaskRunOptions } from './run';
import { TALL_LAMBDA_GRID, type PerTaskSpec } from './spec';

/** Accuracy (or any score, larger is better) of task t's model under a result. */
export type TaskEvaluator = (result: PerTaskResult, t: number) => Promise<number>;

export interface TallChoice {
  readonly result: PerTaskResult;
  /** Per task: the λ_t that won. */
  readonly chosen: readonly number[];
  /** scores[g][t]: task t's score with λ = grid[g]. */
  readonly scores: readonly (readonly number[])[];
  readonly grid: readonly number[];
}

/**
 * TALL masks with λ_t picked per task on the evaluator. One merge per λ of the grid (τ_MTL is the
 * same in each; only the masks differ), each task scored as it comes; the result takes task t's
 * masks from the merge at its λ_t.
 */
export async function chooseTallLambdas(
  set: ModelSet,
  spec: Extract<PerTaskSpec, { method: 'tall_mask' }>,
  evaluate: TaskEvaluator,
  options: PerTaskRunOptions = {},
  grid: readonly number[] = TALL_LAMBDA_GRID,
): Promise<TallChoice> {
  if (!grid.length) throw new RangeError('the λ grid is empty');
  const n = set.tasks.length;
  const scores: number[][] = [];
  const best = new Array<number>(n).fill(0);
  let first: PerTaskResult | undefined;
  const winners = new Map<number, PerTaskResult>();
  for (const [g, lambda] of grid.entries()) {
    const result = await runPerTask(set, { ...spec, lambda }, options);
    first ??= result;
    const row: number[] = [];
    for (let t = 0; t < n; t++) {
      const score = await evaluate(result, t);
      row.push(score);
      if (g === 0 || score > (scores[best[t] as number]?.[t] ?? -Infinity)) best[t] = g;
    }
    scores.push(row);
    // Keep a merge only while some task's best is in it.
    winners.set(g, result);
    for (const k of [...winners.keys()]) if (!best.includes(k)) winners.delete(k);
  }
  const chosen = best.map((g) => grid[g] as number);
  const base = first as PerTaskResult;
  const m = base.modulator as MaskedModulator;
  const masks = new Map<TensorName, Uint32Array>();
  for (const s of set.shared) {
    const words = Math.ceil(s.numel / 32);
    const all = new Uint32Array(n * words);
    for (let t = 0; t < n; t++) {
      const from = (winners.get(best[t] as number) as PerTaskResult).modulator as MaskedModulator;
      all.set((from.masks.get(s.name) as Uint32Array).subarray(t * words, (t + 1) * words), t * words);
    }
    masks.set(s.name, all);
  }
  const result: PerTaskResult = {
    ...base,
    spec: { ...spec, lambda: chosen },
    modulator: { ...m, masks },
    tasks: base.tasks.map((_, t) => ({
      ...((winners.get(best[t] as number) as PerTaskResult).tasks[t] as PerTaskResult['tasks'][number]),
    })),
  };
  return { result, chosen, scores, grid };
}

/** linspace(0.0, 1.0, n_eval_points // 2 + 1)[1:] with n_eval_points = 21. */
export const CONSENSUS_ALPHA_GRID: readonly number[] = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);

/**
 * Consensus' α picked on the evaluator's mean score over the tasks (the original's mean normalized
 * accuracy: pass scores already divided by each task's individual accuracy for the same choice).
 * α changes only the reconstruction, so one merge serves every α.
 */
export async function chooseConsensusAlpha(
  result: PerTaskResult,
  evaluate: TaskEvaluator,
  grid: readonly number[] = CONSENSUS_ALPHA_GRID,
): Promise<{ result: PerTaskResult; alpha: number; scores: readonly number[] }> {
  const spec = result.spec;
  if (spec.method !== 'consensus_ta' && spec.method !== 'consensus_ties')
    throw new RangeError(`α is chosen for Consensus, not ${spec.method}`);
  const n = result.set.tasks.length;
  const at = (alpha: number): PerTaskResult => ({
    ...result,
    spec: { ...spec, lambda: alpha },
    modulator: { ...(result.modulator as MaskedModulator), alphas: new Array<number>(n).fill(alpha) },
  });
  const scores: number[] = [];
  let bestAlpha = grid[0] as number;
  let bestScore = -Infinity;
  for (const alpha of grid) {
    const r = at(alpha);
    let sum = 0;
    for (let t = 0; t < n; t++) sum += await evaluate(r, t);
    const mean = n ? sum / n : 0;
    scores.push(mean);
    if (mean > bestScore) {
      bestScore = mean;
      bestAlpha = alpha;
    }
  }
  return { result: at(bestAlpha), alpha: bestAlpha, scores };
}
