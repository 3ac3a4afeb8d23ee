// The per-task methods beyond EMR (issue #20) and their parameters, with the defaults of the
// original authors' code (docs/merge.md#per-task-methods says where each default comes from):
//   tall_mask       TALL masks (Wang et al., ICML 2024; nik-dim/tall_masks): per-task masks over a
//                   multi-task vector τ_MTL from Task Arithmetic or TIES; task t = θ₀ + m_t ⊙ τ_MTL.
//   consensus_ta    Consensus merging over TA / TIES (same paper): one model, θ₀ + α·(c ⊙ τ_MTL)
//   consensus_ties  where c keeps the weights that at least k tasks' TALL masks keep.
//   t_switch        T-Switch (CVPR 2025; lfy-123/Binary-Task-Switch, merge_vit/merge_vit.py): each
//                   task vector sparsified (drop ratio) and binarised to sign × one scalar per tensor.
//   tsv_c           TSV-C (Gargiulo et al., CVPR 2025; AntoAndGar/task_singular_vectors,
//                   src/utils/TSVC_utils.py compress_tv): each task's τ of every 2-D weight truncated
//                   to its top ⌊rank · sv_reduction⌋ singular components; other tensors keep τ whole.

import { NON_NEGATIVE, rangeProblem, type Range } from '../param-range';

export type TallBase = 'task_arithmetic' | 'ties';

export type PerTaskSpec =
  | {
      readonly method: 'tall_mask';
      readonly tallBase: TallBase;
      /** λ_t of the mask rule, one for every task or one per task (task order). */
      readonly lambda: number | readonly number[];
    }
  | {
      readonly method: 'consensus_ta' | 'consensus_ties';
      /** prun_thre_k: the fewest tasks whose TALL mask keeps a weight for it to stay. */
      readonly k: number;
      /** The TALL masks' λ_t (one, or one per task). */
      readonly tallLambda: number | readonly number[];
      /** The scaling α of the one merged task vector. */
      readonly lambda: number;
    }
  | { readonly method: 't_switch'; readonly dropRatio: number }
  | {
      readonly method: 'tsv_c';
      /** compress_tv's sv_reduction: the fraction of each 2-D τ's singular values kept; undefined: 1/N. */
      readonly svReduction: number | undefined;
    };

export type PerTaskMethod = PerTaskSpec['method'];

export const PERTASK_METHODS: readonly PerTaskMethod[] = [
  'tall_mask',
  'consensus_ta',
  'consensus_ties',
  't_switch',
  'tsv_c',
];

export const PERTASK_TITLES: Record<PerTaskMethod, string> = {
  tall_mask: 'TALL masks',
  consensus_ta: 'Consensus TA',
  consensus_ties: 'Consensus TIES',
  t_switch: 'T-Switch',
  tsv_c: 'TSV-C (task singular vectors, compressed)',
};

/** generate_task_masks' own default λ (the original otherwise picks λ_t from TALL_LAMBDA_GRID). */
export const DEFAULT_TALL_LAMBDA = 1.0;
/** construct_tall_mask's grid, searched per task on validation data. */
export const TALL_LAMBDA_GRID: readonly number[] = [0.2, 0.3, 0.4, 0.5, 0.6];
/** ties_merging(reset_thresh=20): the TIES multi-task vector keeps the top 20 % of each |τ_t|. */
export const TALL_TIES_KEEP = 0.2;
/** consensus.yaml's prun_thre_k. */
export const DEFAULT_CONSENSUS_K = 2;
/** Consensus' α when none is given (the original searches 0.1…1.0 on validation): the studio's TA λ. */
export const DEFAULT_CONSENSUS_LAMBDA = 0.3;
/** run_merge_vit.sh's --drop-ratio for merge_vit.py (its argparse default, 0.0, drops nothing). */
export const DEFAULT_DROP_RATIO = 0.6;
/**
 * TSV-C's sv_reduction when none is given: aggregation.py calls compress_tv(task_vectors,
 * 1 / len(config.DATASETS)), so the default is 1/N for N tasks (undefined here: N is the set's).
 */
export const DEFAULT_SV_REDUCTION: number | undefined = undefined;
/** The default sv_reduction for a set of `numTasks` tasks: 1 / N, a float64 division as Python's. */
export const defaultSvReduction = (numTasks: number): number => 1 / numTasks;

/** λ_t and the consensus masks' λ_t: any finite number ≥ 0. */
export const TALL_LAMBDA_RANGE: Range = NON_NEGATIVE;
/** prun_thre_k: a whole number of tasks. */
export const CONSENSUS_K_RANGE: Range = { min: 0, integer: true };
/** process_matrix reads a drop ratio above 1 as a percentage. */
export const DROP_RATIO_RANGE: Range = { min: 0, max: 100 };
/** compute_svd_and_compress's docstring: 0 < sv_reduction ≤ 1. */
export const SV_REDUCTION_RANGE: Range = { min: 0, minExclusive: true, max: 1 };

export const isPerTaskMethod = (name: string): name is PerTaskMethod =>
  (PERTASK_METHODS as readonly string[]).includes(name);

export const isPerTaskSpec = (spec: { readonly method: string }): spec is PerTaskSpec =>
  isPerTaskMethod(spec.method);

export interface PerTaskParams {
  readonly lambda?: number | readonly number[] | undefined;
  readonly k?: number | undefined;
  readonly tall_base?: string | undefined;
  readonly tall_lambda?: number | readonly number[] | undefined;
  readonly drop_ratio?: number | undefined;
  readonly sv_reduction?: number | undefined;
}

const ALLOWED: Record<PerTaskMethod, readonly string[]> = {
  tall_mask: ['lambda', 'tall_base'],
  consensus_ta: ['k', 'lambda', 'tall_lambda'],
  consensus_ties: ['k', 'lambda', 'tall_lambda'],
  t_switch: ['drop_ratio'],
  tsv_c: ['sv_reduction'],
};

/** The parameters a per-task method takes (its YAML and `--param` names). */
export const perTaskParameterNames = (method: PerTaskMethod): readonly string[] => ALLOWED[method];

function lambdas(name: string, v: number | readonly number[] | undefined, fallback: number) {
  if (v === undefined) return fallback;
  const all = typeof v === 'number' ? [v] : v;
  if (!all.length || all.some((x) => rangeProblem(x, TALL_LAMBDA_RANGE) !== undefined))
    throw new RangeError(`${name} must be a finite number ≥ 0 (or one per task), got ${String(v)}`);
  return typeof v === 'number' ? v : [...v];
}

/** A per-task method with its parameters filled in; refuses parameters it does not take and bad values. */
export function perTaskSpec(
  method: PerTaskMethod,
  params: Readonly<Record<string, unknown>> = {},
): PerTaskSpec {
  const p = params as PerTaskParams;
  const extra = Object.keys(params).filter((k) => params[k] !== undefined && !ALLOWED[method].includes(k));
  if (extra.length) throw new RangeError(`${method} takes no parameter ${extra.join(', ')}`);
  switch (method) {
    case 'tall_mask': {
      const tallBase = p.tall_base ?? 'task_arithmetic';
      if (tallBase !== 'task_arithmetic' && tallBase !== 'ties')
        throw new RangeError(`tall_base must be task_arithmetic or ties, got ${String(tallBase)}`);
      return { method, tallBase, lambda: lambdas('lambda', p.lambda, DEFAULT_TALL_LAMBDA) };
    }
    case 'consensus_ta':
    case 'consensus_ties': {
      const k = p.k ?? DEFAULT_CONSENSUS_K;
      if (rangeProblem(k, CONSENSUS_K_RANGE) !== undefined)
        throw new RangeError(`k (the fewest tasks that keep a weight) must be a whole number ≥ 0, got ${k}`);
      const lambda = p.lambda ?? DEFAULT_CONSENSUS_LAMBDA;
      if (typeof lambda !== 'number' || !Number.isFinite(lambda))
        throw new RangeError(`lambda must be one finite number, got ${String(lambda)}`);
      return { method, k, lambda, tallLambda: lambdas('tall_lambda', p.tall_lambda, DEFAULT_TALL_LAMBDA) };
    }
    case 't_switch': {
      const dropRatio = p.drop_ratio ?? DEFAULT_DROP_RATIO;
      // process_matrix reads k > 1 as a percentage.
      if (rangeProblem(dropRatio, DROP_RATIO_RANGE) !== undefined)
        throw new RangeError(`drop_ratio must be in [0, 1] (or a percentage up to 100), got ${dropRatio}`);
      return { method, dropRatio };
    }
    case 'tsv_c': {
      const v = p.sv_reduction ?? DEFAULT_SV_REDUCTION;
      // compute_svd_and_compress's docstring: 0 < sv_reduction <= 1.
      if (v !== undefined && (typeof v !== 'number' || rangeProblem(v, SV_REDUCTION_RANGE) !== undefined))
        throw new RangeError(`sv_reduction must be in (0, 1], got ${String(v)}`);
      return { method, svReduction: v };
    }
  }
}

/** λ_t of task t from a spec's one-or-per-task value. */
export function lambdaOf(v: number | readonly number[], t: number, numTasks: number): number {
  if (typeof v === 'number') return v;
  if (v.length !== numTasks)
    throw new RangeError(`${v.length} values of λ for ${numTasks} tasks (give one, or one per task)`);
  return v[t] as number;
}

const fmt = (v: number | readonly number[]) => (typeof v === 'number' ? `${v}` : `[${v.join(', ')}]`);

export function describePerTask(spec: PerTaskSpec): string {
  const title = PERTASK_TITLES[spec.method];
  switch (spec.method) {
    case 'tall_mask':
      return `${title} over ${spec.tallBase === 'ties' ? 'TIES' : 'Task Arithmetic'} (λ_t = ${fmt(spec.lambda)})`;
    case 'consensus_ta':
    case 'consensus_ties':
      return `${title} (k = ${spec.k}, mask λ_t = ${fmt(spec.tallLambda)}, α = ${spec.lambda})`;
    case 't_switch':
      return `${title} (drop ratio ${spec.dropRatio})`;
    case 'tsv_c':
      return `${title.replace(/\)$/, '')}; ${spec.svReduction === undefined ? 'rank fraction 1/N' : `rank fraction ${spec.svReduction}`})`;
  }
}

/** The method as a YAML recipe names it: `merge_method` and its `parameters` (the vocabulary above). */
export function perTaskRecipe(spec: PerTaskSpec): {
  merge_method: string;
  parameters: Record<string, unknown>;
} {
  switch (spec.method) {
    case 'tall_mask':
      return { merge_method: spec.method, parameters: { tall_base: spec.tallBase, lambda: spec.lambda } };
    case 'consensus_ta':
    case 'consensus_ties':
      return {
        merge_method: spec.method,
        parameters: { k: spec.k, tall_lambda: spec.tallLambda, lambda: spec.lambda },
      };
    case 't_switch':
      return { merge_method: spec.method, parameters: { drop_ratio: spec.dropRatio } };
    case 'tsv_c':
      return {
        merge_method: spec.method,
        parameters: spec.svReduction === undefined ? {} : { sv_reduction: spec.svReduction },
      };
  }
}
