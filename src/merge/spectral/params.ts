// The spectral methods in the method table (../method-params), by FusionBench's parameter names,
// with the defaults and ranges ./spec names.
import type { MethodInfo, ParamInfo } from '../param-info';
import { FINITE } from '../param-range';
import {
  COMMON_SPACE_FRACTION_RANGE,
  DEFAULT_ALPHA,
  DEFAULT_COMMON_SPACE_FRACTION,
  DEFAULT_SCALING_FACTOR,
  SPECTRAL_TITLES,
  type SpectralMethod,
} from './spec';

const excludeKeys: ParamInfo = {
  name: 'exclude_keys',
  label: 'averaged instead (tensor names)',
  kind: 'names',
  default: [],
  help: '2-D tensors merged as the others are (the mean of the task vectors), not spectrally.',
};

function scalingFactor(): ParamInfo {
  return {
    name: 'scaling_factor',
    label: 'scaling factor',
    kind: 'number',
    default: DEFAULT_SCALING_FACTOR,
    range: FINITE,
    step: 0.1,
    help: 'merged = θ₀ + scaling factor · the merged task vector.',
  };
}

export const SPECTRAL_PARAMS: { readonly [M in SpectralMethod]: MethodInfo } = {
  tsv_m: {
    title: SPECTRAL_TITLES.tsv_m,
    family: 'spectral',
    output: 'one model',
    params: [
      {
        name: 'alpha',
        label: 'α (one, or one per task)',
        kind: 'per-task',
        default: DEFAULT_ALPHA,
        range: FINITE,
        step: 0.1,
        symbol: 'α',
        help: 'One number scales the merged task vector; one per task scales each task vector first.',
      },
      excludeKeys,
    ],
  },
  iso_c: {
    title: SPECTRAL_TITLES.iso_c,
    family: 'spectral',
    output: 'one model',
    params: [scalingFactor(), excludeKeys],
  },
  iso_cts: {
    title: SPECTRAL_TITLES.iso_cts,
    family: 'spectral',
    output: 'one model',
    params: [
      scalingFactor(),
      {
        name: 'common_space_fraction',
        label: 'common space (%)',
        kind: 'number',
        default: DEFAULT_COMMON_SPACE_FRACTION,
        range: COMMON_SPACE_FRACTION_RANGE,
        scale: 100,
        unit: '%',
        step: 5,
        help: 'The share of the directions given to the common subspace; the rest split among the tasks.',
      },
      excludeKeys,
    ],
  },
};
