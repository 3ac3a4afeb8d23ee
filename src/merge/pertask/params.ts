// The per-task methods in the method table (../method-params), by their YAML names, with the
// defaults and ranges ./spec names.
import type { MethodInfo, ParamInfo } from '../param-info';
import { FINITE } from '../param-range';
import {
  CONSENSUS_K_RANGE,
  DEFAULT_CONSENSUS_K,
  DEFAULT_CONSENSUS_LAMBDA,
  DEFAULT_DROP_RATIO,
  DEFAULT_TALL_LAMBDA,
  DROP_RATIO_RANGE,
  SV_REDUCTION_RANGE,
  PERTASK_TITLES,
  TALL_LAMBDA_RANGE,
  type PerTaskMethod,
} from './spec';

const perTaskLambda = (name: string, help: string): ParamInfo => ({
  name,
  label: `${name === 'lambda' ? 'λₜ' : 'mask λₜ'} (one, or one per task)`,
  kind: 'per-task',
  default: DEFAULT_TALL_LAMBDA,
  range: TALL_LAMBDA_RANGE,
  step: 0.1,
  symbol: name === 'lambda' ? 'λₜ' : 'mask λₜ',
  help,
});

const consensus = (method: 'consensus_ta' | 'consensus_ties'): MethodInfo => ({
  title: PERTASK_TITLES[method],
  family: 'per-task',
  output: 'one model',
  params: [
    {
      name: 'k',
      label: 'k, tasks that must keep a weight',
      kind: 'integer',
      default: DEFAULT_CONSENSUS_K,
      range: CONSENSUS_K_RANGE,
      step: 1,
      help: 'A weight stays when at least k tasks’ TALL masks keep it.',
    },
    perTaskLambda('tall_lambda', 'The TALL masks’ λₜ.'),
    {
      name: 'lambda',
      label: 'α',
      kind: 'number',
      default: DEFAULT_CONSENSUS_LAMBDA,
      range: FINITE,
      step: 0.05,
      symbol: 'α',
      help: 'Scales the one merged task vector.',
    },
  ],
});

export const PERTASK_PARAMS: { readonly [M in PerTaskMethod]: MethodInfo } = {
  tall_mask: {
    title: PERTASK_TITLES.tall_mask,
    family: 'per-task',
    output: 'per-task',
    params: [
      {
        name: 'tall_base',
        label: 'multi-task vector',
        kind: 'choice',
        default: 'task_arithmetic',
        options: [
          { value: 'task_arithmetic', label: 'Task Arithmetic' },
          { value: 'ties', label: 'TIES' },
        ],
        help: 'The τ_MTL every task’s mask selects from.',
      },
      perTaskLambda('lambda', 'Task t keeps the weights where |τₜ| ≥ λₜ·|τ_MTL − τₜ|.'),
    ],
  },
  consensus_ta: consensus('consensus_ta'),
  consensus_ties: consensus('consensus_ties'),
  t_switch: {
    title: PERTASK_TITLES.t_switch,
    family: 'per-task',
    output: 'per-task',
    params: [
      {
        name: 'drop_ratio',
        label: 'drop ratio',
        kind: 'number',
        default: DEFAULT_DROP_RATIO,
        range: DROP_RATIO_RANGE,
        step: 0.05,
        help: 'The share of each task vector dropped (above 1: a percentage).',
      },
    ],
  },
  tsv_c: {
    title: PERTASK_TITLES.tsv_c,
    family: 'per-task',
    output: 'per-task',
    params: [
      {
        name: 'sv_reduction',
        label: 'rank fraction kept',
        kind: 'number',
        default: Number.NaN,
        emptyMeans: '1/N (the original’s)',
        range: SV_REDUCTION_RANGE,
        step: 0.05,
        help: 'Each 2-D task vector keeps its top ⌊rank × this⌋ singular components.',
      },
    ],
  },
};
