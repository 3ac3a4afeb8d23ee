// mergekit's single-model methods (arcee-ai/mergekit, mergekit/merge_methods/registry.py): their
// names, parameters and defaults. The generalized task arithmetic family (task_arithmetic, ties,
// dare_*, breadcrumbs*, della*) differs only in its sparsification, its sign consensus and the
// defaults of `normalize` and `rescale`; `linear` is a weighted mean of the task models.

import type { MergeDType } from '../../formats/dtype';
import { checkRange, FINITE, NON_NEGATIVE, rangeProblem, UNIT, type Range } from '../param-range';
import { evaluateSetting, type RecipeSettings } from './settings';

// mergekit's defaults (merge_methods/*.py) and the ranges it accepts, named once: the spec below
// and the studio's form (../method-params) read them.
/** `weight` (mergekit requires one; a recipe without weighs every model 1 here). */
export const DEFAULT_WEIGHT = 1;
export const DEFAULT_DENSITY = 1;
export const DEFAULT_GAMMA = 0.01;
export const DEFAULT_EPSILON = 0.15;
export const DEFAULT_MERGEKIT_LAMBDA = 1;
export const DEFAULT_SEED = 0;
/** slerp's t when none is given (mergekit requires t; the studio's form starts here). */
export const DEFAULT_T = 0.5;
export const DEFAULT_EPS = 1e-8;
export const DENSITY_RANGE: Range = UNIT;
export const GAMMA_RANGE: Range = UNIT;
export const EPSILON_RANGE: Range = { min: 0, max: 1, maxExclusive: true };
// A u32 (the generator's key), written as its largest value: the form shows [0, 4294967295].
export const SEED_RANGE: Range = { min: 0, max: 2 ** 32 - 1, integer: true };
export const EPS_RANGE: Range = NON_NEGATIVE;
/** The per-model parameters' ranges (weight: any finite number). */
export const MODEL_PARAM_RANGES: Readonly<Record<keyof ModelParams, Range>> = {
  weight: FINITE,
  density: DENSITY_RANGE,
  gamma: GAMMA_RANGE,
  epsilon: EPSILON_RANGE,
};

export type Sparsification = 'magnitude' | 'random' | 'magnitude_outliers' | 'della_magprune';

export const GTA_METHODS = {
  task_arithmetic: { sparsification: undefined, consensus: false, normalize: false, rescale: false },
  ties: { sparsification: 'magnitude', consensus: true, normalize: true, rescale: false },
  dare_ties: { sparsification: 'random', consensus: true, normalize: false, rescale: true },
  dare_linear: { sparsification: 'random', consensus: false, normalize: false, rescale: true },
  breadcrumbs: { sparsification: 'magnitude_outliers', consensus: false, normalize: false, rescale: false },
  breadcrumbs_ties: {
    sparsification: 'magnitude_outliers',
    consensus: true,
    normalize: false,
    rescale: false,
  },
  della: { sparsification: 'della_magprune', consensus: true, normalize: true, rescale: true },
  della_linear: { sparsification: 'della_magprune', consensus: false, normalize: false, rescale: true },
} as const satisfies Record<
  string,
  {
    sparsification: Sparsification | undefined;
    consensus: boolean;
    normalize: boolean;
    rescale: boolean;
  }
>;

export type GtaMethod = keyof typeof GTA_METHODS;
/** The spherical interpolations (./slerp): slerp takes the base and one model, nuslerp two models. */
export type SlerpMethod = 'slerp' | 'multislerp' | 'nuslerp';
export type MergekitMethod = GtaMethod | 'linear' | 'model_stock' | SlerpMethod;

export const SLERP_METHODS: readonly SlerpMethod[] = ['slerp', 'multislerp', 'nuslerp'];

export const MERGEKIT_METHODS: readonly MergekitMethod[] = [
  ...(Object.keys(GTA_METHODS) as GtaMethod[]),
  'linear',
  'model_stock',
  ...SLERP_METHODS,
];

export const isSlerpMethod = (name: string): name is SlerpMethod =>
  (SLERP_METHODS as readonly string[]).includes(name);

/** A method with no sparsification, consensus or lambda: its result is no θ₀ + Δ. */
const isGta = (name: MergekitMethod): name is GtaMethod => Object.hasOwn(GTA_METHODS, name);

export const MERGEKIT_TITLES: Record<MergekitMethod, string> = {
  task_arithmetic: 'Task Arithmetic (mergekit)',
  ties: 'TIES (mergekit)',
  dare_ties: 'DARE TIES',
  dare_linear: 'Linear DARE',
  breadcrumbs: 'Model Breadcrumbs',
  breadcrumbs_ties: 'Model Breadcrumbs with TIES',
  della: 'DELLA',
  della_linear: 'Linear DELLA',
  linear: 'Linear',
  model_stock: 'Model Stock',
  slerp: 'SLERP',
  multislerp: 'Multi-SLERP',
  nuslerp: 'NuSLERP',
};

export const isMergekitMethod = (name: string): name is MergekitMethod =>
  (MERGEKIT_METHODS as readonly string[]).includes(name);

/** mergekit's per-model ("tensor") parameters. */
export interface ModelParams {
  readonly weight: number;
  readonly density: number;
  readonly gamma: number;
  readonly epsilon: number;
}

export type ModelParamsInput = { readonly [K in keyof ModelParams]?: number | undefined };

/** A mergekit method with its parameters checked; per-model values resolved per task at merge time. */
export interface MergekitSpec {
  readonly method: 'mergekit';
  readonly name: MergekitMethod;
  readonly normalize: boolean;
  /** L1-norm rescaling after sparsification (mergekit's `rescale`). */
  readonly rescale: boolean;
  readonly lambda: number;
  /** Accepted for mergekit recipes; it only changes mergekit's memory use. */
  readonly int8Mask: boolean;
  /** Keys the random drops of dare_* and della* (see ./rng). */
  readonly seed: number;
  /** model_stock: one interpolation factor per row (last dimension) instead of per tensor. */
  readonly filterWise: boolean;
  /** slerp: the interpolation factor from the base (0) to the other model (1). */
  readonly t: number;
  /** multislerp: divide the weights by their sum (mergekit's `normalize_weights`). */
  readonly normalizeWeights: boolean;
  /** multislerp: the norms' epsilon (mergekit's `eps`). */
  readonly eps: number;
  /** nuslerp: interpolate vectors along dim 0 instead of the last (`nuslerp_row_wise`). */
  readonly rowWise: boolean;
  /** nuslerp: interpolate the whole tensor as one vector (`nuslerp_flatten`). */
  readonly flatten: boolean;
  /**
   * multislerp, nuslerp: whether the recipe named a base model. With one, the models' offsets from
   * it are interpolated and added back; without, the models themselves.
   */
  readonly useBase: boolean;
  /** Top-level per-model parameters: the default of every model. */
  readonly defaults: ModelParamsInput;
  /** Per task (task order), when the recipe gave any. */
  readonly models?: readonly ModelParamsInput[];
  /**
   * A recipe's gradients and filtered values (./settings): the parameters are then resolved per
   * tensor (specForTensor), those above holding the values a probe gave when the recipe was read.
   */
  readonly settings?: RecipeSettings;
  /** A recipe's single slice: every source's layer_range, which must cover all the layers. */
  readonly layerRange?: readonly [number, number];
  /** A recipe's out_dtype (or dtype): the dtype the merged tensors are written in. */
  readonly outDtype?: MergeDType;
}

export interface MergekitParams extends ModelParamsInput {
  readonly normalize?: boolean | undefined;
  readonly rescale?: boolean | undefined;
  readonly lambda?: number | undefined;
  readonly int8_mask?: boolean | undefined;
  readonly filter_wise?: boolean | undefined;
  readonly seed?: number | undefined;
  readonly t?: number | undefined;
  readonly normalize_weights?: boolean | undefined;
  readonly eps?: number | undefined;
  readonly nuslerp_row_wise?: boolean | undefined;
  readonly nuslerp_flatten?: boolean | undefined;
  /** multislerp, nuslerp: false when the recipe names no base_model (default true). */
  readonly use_base?: boolean | undefined;
  readonly models?: readonly ModelParamsInput[] | undefined;
}

/** The global and per-model parameters each method takes, by mergekit's names. */
export function mergekitParameterNames(name: MergekitMethod): { global: string[]; model: string[] } {
  if (name === 'linear') return { global: ['normalize'], model: ['weight'] };
  if (name === 'model_stock') return { global: ['filter_wise'], model: [] };
  if (name === 'slerp') return { global: ['t'], model: [] };
  if (name === 'multislerp') return { global: ['normalize_weights', 'eps', 'use_base'], model: ['weight'] };
  if (name === 'nuslerp')
    return { global: ['nuslerp_row_wise', 'nuslerp_flatten', 'use_base'], model: ['weight'] };
  const m = GTA_METHODS[name];
  const model = ['weight', 'density'];
  if (m.sparsification === 'magnitude_outliers') model.push('gamma');
  if (m.sparsification === 'della_magprune') model.push('epsilon');
  const global = ['int8_mask', 'normalize', 'rescale', 'lambda'];
  if (m.sparsification === 'random' || m.sparsification === 'della_magprune') global.push('seed');
  return { global, model };
}

export class MergekitParamError extends RangeError {
  override readonly name = 'MergekitParamError';
}

function checkModel(name: MergekitMethod, p: ModelParamsInput, where: string): void {
  const { model } = mergekitParameterNames(name);
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (!model.includes(k)) throw new MergekitParamError(`${where}${name} takes no parameter ${k}`);
    checkRange(`${where}${k}`, MODEL_PARAM_RANGES[k as keyof ModelParams], v, MergekitParamError);
  }
}

const BOOLEAN_PARAMS = [
  'normalize',
  'rescale',
  'int8_mask',
  'filter_wise',
  'normalize_weights',
  'nuslerp_row_wise',
  'nuslerp_flatten',
  'use_base',
];

/** A mergekit method's spec: refuses parameters it does not take and values out of range. */
export function mergekitSpec(name: MergekitMethod, params: MergekitParams = {}): MergekitSpec {
  const { global } = mergekitParameterNames(name);
  const { models, weight, density, gamma, epsilon, ...rest } = params;
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    if (!global.includes(k)) throw new MergekitParamError(`${name} takes no parameter ${k}`);
    const bool = BOOLEAN_PARAMS.includes(k);
    if (bool !== (typeof v === 'boolean'))
      throw new MergekitParamError(`${k} must be ${bool ? 'true or false' : 'a number'}, got ${String(v)}`);
  }
  const defaults = { weight, density, gamma, epsilon };
  checkModel(name, defaults, '');
  models?.forEach((m, i) => checkModel(name, m, `models[${i}]: `));
  const lambda = checkRange('lambda', FINITE, params.lambda ?? DEFAULT_MERGEKIT_LAMBDA, MergekitParamError);
  const seed = params.seed ?? DEFAULT_SEED;
  if (rangeProblem(seed, SEED_RANGE) !== undefined)
    throw new MergekitParamError(`seed must be an integer in [0, 2^32), got ${seed}`);
  const gta = isGta(name) ? GTA_METHODS[name] : undefined;
  const t = params.t;
  if (name === 'slerp' && (t === undefined || !Number.isFinite(t)))
    throw new MergekitParamError(`slerp needs t, a finite number (0: the base model, 1: the other)`);
  const eps = checkRange('eps', EPS_RANGE, params.eps ?? DEFAULT_EPS, MergekitParamError);
  const spec: MergekitSpec = {
    method: 'mergekit',
    name,
    normalize: params.normalize ?? gta?.normalize ?? true,
    rescale: params.rescale ?? gta?.rescale ?? false,
    lambda,
    int8Mask: params.int8_mask ?? false,
    seed,
    filterWise: params.filter_wise ?? false,
    t: t ?? DEFAULT_T,
    normalizeWeights: params.normalize_weights ?? true,
    eps,
    rowWise: params.nuslerp_row_wise ?? false,
    flatten: params.nuslerp_flatten ?? true,
    useBase: params.use_base ?? true,
    defaults,
    ...(models ? { models } : {}),
  };
  // DELLA's drop probabilities must lie in (0, 1) for every model that sparsifies (density < 1).
  if (gta?.sparsification === 'della_magprune')
    for (let t = 0; t < Math.max(1, models?.length ?? 0); t++) resolveModel(spec, t);
  return spec;
}

/** Task t's per-model parameters: its own, else the top-level ones, else mergekit's defaults. */
export function resolveModel(spec: MergekitSpec, task: number): ModelParams {
  const own = spec.models?.[task] ?? {};
  const pick = (k: keyof ModelParams, fallback: number) => own[k] ?? spec.defaults[k] ?? fallback;
  const p: ModelParams = {
    // mergekit requires `weight`; a recipe without one weighs every model 1 here (docs/merge.md).
    weight: pick('weight', DEFAULT_WEIGHT),
    density: pick('density', DEFAULT_DENSITY),
    gamma: pick('gamma', DEFAULT_GAMMA),
    epsilon: pick('epsilon', DEFAULT_EPSILON),
  };
  if (
    isGta(spec.name) &&
    GTA_METHODS[spec.name].sparsification === 'della_magprune' &&
    p.density < 1 &&
    p.density > 0 &&
    (p.density + p.epsilon >= 1 || p.density - p.epsilon <= 0)
  )
    throw new MergekitParamError(
      `model ${task}: epsilon must be chosen such that density ± epsilon is in (0, 1) (density ${p.density}, epsilon ${p.epsilon})`,
    );
  return p;
}

export function describeMergekit(spec: MergekitSpec): string {
  const parts: string[] = [];
  const d = spec.defaults;
  if (spec.models?.length) parts.push('per-model parameters');
  for (const k of ['weight', 'density', 'gamma', 'epsilon'] as const)
    if (d[k] !== undefined) parts.push(`${k} = ${d[k]}`);
  if (spec.name === 'model_stock') parts.push(`filter_wise: ${spec.filterWise}`);
  else if (spec.name === 'slerp') parts.push(`t = ${spec.t}`);
  else if (spec.name === 'multislerp')
    parts.push(`normalize_weights: ${spec.normalizeWeights}`, ...(spec.useBase ? [] : ['no base']));
  else if (spec.name === 'nuslerp')
    parts.push(
      spec.flatten ? 'flatten' : spec.rowWise ? 'row-wise' : 'column-wise',
      ...(spec.useBase ? [] : ['no base']),
    );
  else if (spec.name !== 'linear') {
    if (spec.lambda !== 1) parts.push(`λ = ${spec.lambda}`);
    parts.push(`normalize: ${spec.normalize}`, `rescale: ${spec.rescale}`);
    const s = GTA_METHODS[spec.name].sparsification;
    if (s === 'random' || s === 'della_magprune') parts.push(`seed ${spec.seed}`);
  } else parts.push(`normalize: ${spec.normalize}`);
  return `${MERGEKIT_TITLES[spec.name]} (${parts.join(', ')})`;
}

/**
 * The spec for one tensor at depth t (./settings): the recipe's settings evaluated as mergekit's
 * ConfigReader.parameter does — a model's own value, else the top-level one, else the default.
 */
export function specForTensor(spec: MergekitSpec, tensorName: string, t: number): MergekitSpec {
  const s = spec.settings;
  if (!s) return spec;
  const evaluate = (rec: Readonly<Record<string, unknown>>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) {
      const x = evaluateSetting(tensorName, v as never, t);
      if (x !== undefined) out[k] = x;
    }
    return out;
  };
  let resolved: MergekitSpec;
  try {
    resolved = mergekitSpec(spec.name, {
      ...evaluate(s.global),
      ...(s.models.length ? { models: s.models.map(evaluate) as ModelParamsInput[] } : {}),
    } as MergekitParams);
  } catch (e) {
    throw new MergekitParamError(`${tensorName}: ${(e as Error).message}`);
  }
  return { ...spec, ...resolved, seed: spec.seed, useBase: spec.useBase, settings: s };
}
