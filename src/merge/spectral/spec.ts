// The spectral single-model methods (FusionBench): TSV-M (task singular vectors, orthogonalized),
// Iso-C and Iso-CTS (isotropic merging in the common, and the common and task-specific, subspaces).
// Names and parameters as FusionBench's configs give them (config/method/task_singular_vector/
// TaskSingularVectorMerging.yaml, config/method/isotropic_merging/iso_c.yaml, iso_cts.yaml).

import { checkRange, FINITE, UNIT, type Range } from '../param-range';

export type SpectralMethod = 'tsv_m' | 'iso_c' | 'iso_cts';

export const SPECTRAL_METHODS: readonly SpectralMethod[] = ['tsv_m', 'iso_c', 'iso_cts'];

export const SPECTRAL_TITLES: Record<SpectralMethod, string> = {
  tsv_m: 'TSV-M (task singular vectors)',
  iso_c: 'Iso-C (isotropic, common subspace)',
  iso_cts: 'Iso-CTS (isotropic, common and task-specific subspaces)',
};

export const isSpectralMethod = (name: string): name is SpectralMethod =>
  (SPECTRAL_METHODS as readonly string[]).includes(name);

export interface SpectralSpec {
  readonly method: 'spectral';
  readonly name: SpectralMethod;
  /**
   * tsv_m: a number scales the merged task vector (after the SVD steps); a list, one per task,
   * scales each task vector before them (FusionBench's `alpha`). 1 for the others.
   */
  readonly alpha: number | readonly number[];
  /** iso_c, iso_cts: merged = θ₀ + scaling_factor · merged task vector. 1 for tsv_m. */
  readonly scalingFactor: number;
  /** iso_cts: the fraction of the k = min(m, n) directions given to the common subspace. */
  readonly commonSpaceFraction: number;
  /** 2-D tensors merged as every other tensor is (the mean of the task vectors), not spectrally. */
  readonly excludeKeys: readonly string[];
}

export interface SpectralParams {
  readonly alpha?: number | readonly number[] | undefined;
  readonly scaling_factor?: number | undefined;
  readonly common_space_fraction?: number | undefined;
  readonly exclude_keys?: readonly string[] | undefined;
}

/** FusionBench's defaults (the configs above), named once for the spec and the studio's form. */
export const DEFAULT_ALPHA = 1;
export const DEFAULT_SCALING_FACTOR = 1;
export const DEFAULT_COMMON_SPACE_FRACTION = 0.8;
export const COMMON_SPACE_FRACTION_RANGE: Range = UNIT;

export class SpectralParamError extends RangeError {
  override readonly name = 'SpectralParamError';
}

/** The parameters each method takes, by FusionBench's names. */
export function spectralParameterNames(name: SpectralMethod): string[] {
  if (name === 'tsv_m') return ['alpha', 'exclude_keys'];
  if (name === 'iso_c') return ['scaling_factor', 'exclude_keys'];
  return ['scaling_factor', 'common_space_fraction', 'exclude_keys'];
}

const finite = (k: string, v: unknown): number => checkRange(k, FINITE, v, SpectralParamError);

/** A spectral method's spec: refuses parameters it does not take and values out of range. */
export function spectralSpec(name: SpectralMethod, params: SpectralParams = {}): SpectralSpec {
  const allowed = spectralParameterNames(name);
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && !allowed.includes(k))
      throw new SpectralParamError(`${name} takes no parameter ${k}`);
  const alpha = Array.isArray(params.alpha)
    ? params.alpha.map((a, i) => finite(`alpha[${i}]`, a))
    : finite('alpha', params.alpha ?? DEFAULT_ALPHA);
  if (Array.isArray(alpha) && alpha.length === 0) throw new SpectralParamError('alpha: an empty list');
  const scalingFactor = finite('scaling_factor', params.scaling_factor ?? DEFAULT_SCALING_FACTOR);
  const commonSpaceFraction = checkRange(
    'common_space_fraction',
    COMMON_SPACE_FRACTION_RANGE,
    params.common_space_fraction ?? DEFAULT_COMMON_SPACE_FRACTION,
    SpectralParamError,
  );
  const excludeKeys = params.exclude_keys ?? [];
  if (!Array.isArray(excludeKeys) || excludeKeys.some((k) => typeof k !== 'string'))
    throw new SpectralParamError('exclude_keys must be a list of tensor names');
  return { method: 'spectral', name, alpha, scalingFactor, commonSpaceFraction, excludeKeys };
}

export function describeSpectral(spec: SpectralSpec): string {
  const parts: string[] = [];
  if (spec.name === 'tsv_m')
    parts.push(
      typeof spec.alpha === 'number' ? `α = ${spec.alpha}` : `α per task = ${spec.alpha.join(', ')}`,
    );
  else parts.push(`scaling factor ${spec.scalingFactor}`);
  if (spec.name === 'iso_cts') parts.push(`common space ${spec.commonSpaceFraction}`);
  if (spec.excludeKeys.length) parts.push(`${spec.excludeKeys.length} tensors averaged`);
  return `${SPECTRAL_TITLES[spec.name]} (${parts.join(', ')})`;
}

/** The recipe's parameters (FusionBench's names), for a model card. */
export function spectralRecipeParameters(spec: SpectralSpec): Record<string, unknown> {
  const p: Record<string, unknown> =
    spec.name === 'tsv_m'
      ? { alpha: spec.alpha }
      : spec.name === 'iso_c'
        ? { scaling_factor: spec.scalingFactor }
        : { scaling_factor: spec.scalingFactor, common_space_fraction: spec.commonSpaceFraction };
  if (spec.excludeKeys.length) p['exclude_keys'] = [...spec.excludeKeys];
  return p;
}
