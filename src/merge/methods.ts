// The merge methods and their parameters, with the defaults of the papers' reference code — and
// mergekit's single-model methods (./mergekit/spec), reached by their mergekit names.
import {
  describeMergekit,
  isMergekitMethod,
  mergekitParameterNames,
  mergekitSpec,
  type MergekitParams,
  type MergekitSpec,
} from './mergekit/spec';
import {
  describeSpectral,
  isSpectralMethod,
  spectralParameterNames,
  spectralSpec,
  type SpectralParams,
  type SpectralSpec,
} from './spectral/spec';
import {
  describePerTask,
  isPerTaskMethod,
  isPerTaskSpec,
  perTaskParameterNames,
  perTaskSpec,
  type PerTaskSpec,
} from './pertask/spec';

import { checkRange, POSITIVE, type Range } from './param-range';
import { checkSlerpSet } from './mergekit/slerp-run';

export type RescaleMode = 'tensor-mean' | 'global';

// The studio's defaults (the EMR paper's table: TA's λ = 0.3, TIES keeps 20 % of |τ| at λ = 1) and
// ranges, named once for methodSpec and the studio's form (./method-params).
export const DEFAULT_RESCALE: RescaleMode = 'tensor-mean';
export const DEFAULT_TA_LAMBDA = 0.3;
export const DEFAULT_TIES_K = 0.2;
export const DEFAULT_TIES_LAMBDA = 1;
/** TA's and TIES's λ: above 0 (0 gives the base model back; the form has always refused it). */
export const PAPER_LAMBDA_RANGE: Range = POSITIVE;
/** TIES's k, the fraction of |τ| kept. */
export const TIES_K_RANGE: Range = { min: 0, minExclusive: true, max: 1 };

export type MethodSpec =
  | { readonly method: 'emr'; readonly rescale: RescaleMode }
  | { readonly method: 'avg' }
  | { readonly method: 'ta'; readonly lambda: number }
  | { readonly method: 'ties'; readonly k: number; readonly lambda: number };

/** A studio method's spec, a mergekit method's, a spectral one's or a per-task one's (./pertask; the CLI takes all). */
export type AnyMethodSpec = MethodSpec | MergekitSpec | SpectralSpec | PerTaskSpec;

/** The studio's methods (the EMR paper's table). */
export type MethodName = 'emr' | 'avg' | 'ta' | 'ties';

export const METHOD_NAMES: readonly MethodName[] = ['emr', 'avg', 'ta', 'ties'];

export const METHOD_TITLES: Record<MethodName, string> = {
  emr: 'EMR-Merging',
  avg: 'Weight averaging',
  ta: 'Task Arithmetic',
  ties: 'TIES-Merging',
};

export interface MethodParams {
  readonly lambda?: number | undefined;
  readonly k?: number | undefined;
  readonly rescale?: RescaleMode | undefined;
}

/**
 * A method by any name this project knows: the studio's (`emr`, `avg`, `ta`, `ties`, and
 * `ties_paper` for the TIES paper's variant), or mergekit's. `ties` is the paper's variant with
 * `k`/`lambda` or no parameter (the studio's TIES, `--method ties --topk`), and mergekit's as soon as
 * a mergekit parameter (`weight`, `density`, …) is given; `mergekit: true` (a mergekit recipe)
 * makes an unparameterized `ties` mergekit's too (docs/merge.md#ties-mapping).
 */
export function anyMethodSpec(
  name: string,
  params: Readonly<Record<string, unknown>>,
  options: { mergekit?: boolean } = {},
): AnyMethodSpec {
  const given = Object.keys(params).filter((k) => params[k] !== undefined);
  const paperTies =
    name === 'ties_paper' ||
    (name === 'ties' && (given.includes('k') || (!options.mergekit && given.every((k) => k === 'lambda'))));
  if (paperTies) return methodSpec('ties', params as MethodParams);
  if (isPerTaskMethod(name)) return perTaskSpec(name, params);
  if (isMergekitMethod(name)) {
    if (typeof params['rescale'] === 'string')
      throw new RangeError(`${name}: rescale is true or false (tensor-mean and global are EMR's rescalers)`);
    return mergekitSpec(name, params as MergekitParams);
  }
  if (name === 'emr' || name === 'avg' || name === 'ta') return methodSpec(name, params as MethodParams);
  // FusionBench's spectral methods: tsv_m, iso_c, iso_cts (docs/merge.md#spectral).
  if (isSpectralMethod(name)) return spectralSpec(name, params as SpectralParams);
  throw new RangeError(`unknown merge method "${name}"`);
}

/**
 * The parameter names a method takes by any name anyMethodSpec knows (`k` is `--topk`'s; `rescale`
 * is EMR's mode for `emr` and mergekit's true/false for mergekit's methods). `ties` takes the
 * paper's `k`/`lambda` and mergekit's parameters (one of which makes it mergekit's); unknown names
 * take none.
 */
export function methodParameterNames(name: string): readonly string[] {
  if (name === 'emr') return ['rescale'];
  if (name === 'avg') return [];
  if (name === 'ta') return ['lambda'];
  if (name === 'ties_paper') return ['k', 'lambda'];
  if (isPerTaskMethod(name)) return perTaskParameterNames(name);
  if (isSpectralMethod(name)) return spectralParameterNames(name);
  if (isMergekitMethod(name)) {
    const { global, model } = mergekitParameterNames(name);
    return [...new Set([...(name === 'ties' ? ['k'] : []), ...global, ...model])];
  }
  return [];
}

/** A method with its parameters filled in; refuses parameters the method does not take or bad values. */
export function methodSpec(method: MethodName, params: MethodParams = {}): MethodSpec {
  const given = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  const allowed: Record<MethodName, string[]> = {
    emr: ['rescale'],
    avg: [],
    ta: ['lambda'],
    ties: ['k', 'lambda'],
  };
  const extra = given.filter((k) => !allowed[method].includes(k));
  if (extra.length) throw new RangeError(`${method} takes no parameter ${extra.join(', ')}`);
  const lambda =
    params.lambda === undefined ? undefined : checkRange('lambda', PAPER_LAMBDA_RANGE, params.lambda);
  switch (method) {
    case 'emr': {
      const rescale = params.rescale ?? DEFAULT_RESCALE;
      if (rescale !== 'tensor-mean' && rescale !== 'global')
        throw new RangeError(`rescale must be tensor-mean or global, got ${String(rescale)}`);
      return { method, rescale };
    }
    case 'avg':
      return { method };
    case 'ta':
      return { method, lambda: lambda ?? DEFAULT_TA_LAMBDA };
    case 'ties': {
      const k = checkRange('k (the fraction of |τ| kept)', TIES_K_RANGE, params.k ?? DEFAULT_TIES_K);
      return { method, k, lambda: lambda ?? DEFAULT_TIES_LAMBDA };
    }
  }
}

export function describeMethod(spec: AnyMethodSpec): string {
  if (isPerTaskSpec(spec)) return describePerTask(spec);
  switch (spec.method) {
    case 'emr':
      return `${METHOD_TITLES.emr} (rescale: ${spec.rescale})`;
    case 'avg':
      return METHOD_TITLES.avg;
    case 'ta':
      return `${METHOD_TITLES.ta} (λ = ${spec.lambda})`;
    case 'ties':
      // toPrecision: k = 0.07 reads 7 %, not 7.000000000000001 %
      return `${METHOD_TITLES.ties} (k = ${+(spec.k * 100).toPrecision(12)} %, λ = ${spec.lambda})`;
    case 'mergekit':
      return describeMergekit(spec);
    case 'spectral':
      return describeSpectral(spec);
  }
}

/** The fewest models besides the base a method merges: mergekit's slerp takes one, the rest two. */
export const minTasksFor = (spec: AnyMethodSpec): number =>
  spec.method === 'mergekit' && (spec.name === 'slerp' || spec.name === 'multislerp') ? 1 : 2;

/**
 * Why a method cannot merge this many models besides the base, or undefined when it can: the
 * fewest (minTasksFor) and the exact counts of slerp (one) and nuslerp (two), as the merge refuses
 * them — so a surface can say so before Merge.
 */
export function taskCountProblem(spec: AnyMethodSpec, numTasks: number): string | undefined {
  const min = minTasksFor(spec);
  if (numTasks < min)
    return min === 1
      ? 'Add a model besides the base.'
      : `This method needs at least two tasks; ${numTasks === 0 ? 'none is' : 'one is'} loaded.`;
  if (spec.method !== 'mergekit') return undefined;
  try {
    checkSlerpSet(spec, numTasks);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
