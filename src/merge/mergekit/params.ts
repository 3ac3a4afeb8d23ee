// mergekit's methods in the method table (../method-params): each parameter by mergekit's name,
// with the defaults and ranges ./spec names (the generalized task arithmetic family's parameters
// follow its sparsification, as mergekitParameterNames says).
import { flag, type MethodInfo, type ParamInfo } from '../param-info';
import { FINITE } from '../param-range';
import {
  DEFAULT_DENSITY,
  DEFAULT_EPS,
  DEFAULT_EPSILON,
  DEFAULT_GAMMA,
  DEFAULT_MERGEKIT_LAMBDA,
  DEFAULT_SEED,
  DEFAULT_T,
  DEFAULT_WEIGHT,
  DENSITY_RANGE,
  EPS_RANGE,
  EPSILON_RANGE,
  GAMMA_RANGE,
  GTA_METHODS,
  MERGEKIT_TITLES,
  SEED_RANGE,
  type GtaMethod,
  type MergekitMethod,
} from './spec';

const mergekitLambda: ParamInfo = {
  name: 'lambda',
  label: 'λ',
  kind: 'number',
  default: DEFAULT_MERGEKIT_LAMBDA,
  range: FINITE,
  symbol: 'λ',
  step: 0.05,
  help: 'Scales the merged task vector.',
};

const weight: ParamInfo = {
  name: 'weight',
  label: 'weight (every model)',
  kind: 'number',
  default: DEFAULT_WEIGHT,
  range: FINITE,
  step: 0.1,
  help: 'Each model’s weight in the mix (a recipe may give one per model).',
};

const seed: ParamInfo = {
  name: 'seed',
  label: 'seed',
  kind: 'integer',
  default: DEFAULT_SEED,
  range: SEED_RANGE,
  step: 1,
  help: 'Keys the random drops: the same seed gives the same merge, bit for bit.',
};

/** mergekit's generalized task arithmetic family: its sparsification decides the parameters. */
function gta(name: GtaMethod): MethodInfo {
  const m = GTA_METHODS[name];
  // mergekit takes density for every method of the family; without sparsification it reads none.
  const params: ParamInfo[] = [
    weight,
    {
      name: 'density',
      label: 'density',
      kind: 'number',
      default: DEFAULT_DENSITY,
      range: DENSITY_RANGE,
      step: 0.05,
      help: m.sparsification
        ? 'The fraction of each task vector kept (1 keeps all).'
        : 'Taken for mergekit recipes; task_arithmetic keeps every weight.',
    },
  ];
  if (m.sparsification === 'magnitude_outliers')
    params.push({
      name: 'gamma',
      label: 'gamma',
      kind: 'number',
      default: DEFAULT_GAMMA,
      range: GAMMA_RANGE,
      step: 0.01,
      help: 'The fraction of the largest magnitudes dropped as outliers.',
    });
  if (m.sparsification === 'della_magprune')
    params.push({
      name: 'epsilon',
      label: 'epsilon',
      kind: 'number',
      default: DEFAULT_EPSILON,
      range: EPSILON_RANGE,
      step: 0.01,
      help: 'The spread of drop probabilities around 1 − density (density ± epsilon within (0, 1)).',
    });
  params.push(
    mergekitLambda,
    flag('normalize', m.normalize, 'Divide by the sum of the weights (that agree in sign, with consensus).'),
    flag('rescale', m.rescale, 'Rescale what is kept to the L1 norm before sparsification.'),
    flag('int8_mask', false, 'Accepted for mergekit recipes; it changes only mergekit’s memory use.'),
  );
  if (m.sparsification === 'random' || m.sparsification === 'della_magprune') params.push(seed);
  return { title: MERGEKIT_TITLES[name], family: 'mergekit', output: 'one model', params };
}

const entry = (name: MergekitMethod, params: readonly ParamInfo[]): MethodInfo => ({
  title: MERGEKIT_TITLES[name],
  family: 'mergekit',
  output: 'one model',
  params,
});

const useBase = flag(
  'use_base',
  true,
  'Interpolate the offsets from the base model (off: the models themselves).',
);

export const MERGEKIT_PARAMS: { readonly [M in MergekitMethod]: MethodInfo } = {
  task_arithmetic: gta('task_arithmetic'),
  ties: gta('ties'),
  dare_ties: gta('dare_ties'),
  dare_linear: gta('dare_linear'),
  breadcrumbs: gta('breadcrumbs'),
  breadcrumbs_ties: gta('breadcrumbs_ties'),
  della: gta('della'),
  della_linear: gta('della_linear'),
  linear: entry('linear', [weight, flag('normalize', true, 'Divide by the sum of the weights.')]),
  model_stock: entry('model_stock', [
    flag('filter_wise', false, 'One interpolation factor per row instead of per tensor.'),
  ]),
  slerp: entry('slerp', [
    {
      name: 't',
      label: 't',
      kind: 'number',
      default: DEFAULT_T,
      range: FINITE,
      step: 0.05,
      help: 'From the base (0) to the other model (1); needs exactly one model besides the base.',
    },
  ]),
  multislerp: entry('multislerp', [
    weight,
    flag('normalize_weights', true, 'Divide the weights by their sum.'),
    {
      name: 'eps',
      label: 'eps',
      kind: 'number',
      default: DEFAULT_EPS,
      range: EPS_RANGE,
      step: 1e-8,
      help: 'Guards the norms against zero.',
    },
    useBase,
  ]),
  nuslerp: entry('nuslerp', [
    weight,
    flag('nuslerp_row_wise', false, 'Interpolate along dim 0 instead of the last.'),
    flag('nuslerp_flatten', true, 'Interpolate each tensor as one vector.'),
    useBase,
  ]),
};
