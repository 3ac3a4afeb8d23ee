// Every merge method by every name anyMethodSpec (./methods) takes, with its title, its family and
// each parameter: the YAML/--param name, how the studio's form shows it, its default (the spec
// files' named defaults) and valid range (the spec files' ranges, ./param-range). The table is
// typed over the families' name unions, so a new method name without an entry fails typecheck
// (each family's entries: ./mergekit/params, ./spectral/params, ./pertask/params), and the
// studio's form is generic over it (app/views/merge/MethodForm.tsx).
import {
  anyMethodSpec,
  DEFAULT_RESCALE,
  DEFAULT_TA_LAMBDA,
  DEFAULT_TIES_K,
  DEFAULT_TIES_LAMBDA,
  PAPER_LAMBDA_RANGE,
  TIES_K_RANGE,
  type AnyMethodSpec,
  type MethodName,
} from './methods';
import { MERGEKIT_PARAMS } from './mergekit/params';
import type { MergekitMethod } from './mergekit/spec';
import type { Family, MethodInfo, ParamInfo } from './param-info';
import { rangeProblem, type Range } from './param-range';
import { PERTASK_PARAMS } from './pertask/params';
import type { PerTaskMethod } from './pertask/spec';
import { SPECTRAL_PARAMS } from './spectral/params';
import type { SpectralMethod } from './spectral/spec';

export { FAMILIES, FAMILY_TITLES, type Family, type MethodInfo, type ParamInfo } from './param-info';

/**
 * Every name anyMethodSpec takes. `ties` is mergekit's TIES here (per-tensor density, weights,
 * normalize: a recipe's `ties`); the TIES paper's (one global top-k) is `ties_paper`, which the
 * CLI also reaches as `--method ties` with `k` or no parameter (docs/merge.md#ties-mapping).
 */
export type AnyMethodName = MethodName | 'ties_paper' | MergekitMethod | SpectralMethod | PerTaskMethod;

const paperLambda = (help: string, dflt: number): ParamInfo => ({
  name: 'lambda',
  label: 'λ',
  kind: 'number',
  default: dflt,
  range: PAPER_LAMBDA_RANGE,
  step: 0.05,
  symbol: 'λ',
  help,
});

/** The table: every name anyMethodSpec takes (a missing one is a type error). */
export const METHOD_TABLE: { readonly [M in AnyMethodName]: MethodInfo } = {
  emr: {
    title: 'EMR-Merging',
    family: 'emr-paper',
    output: 'per-task',
    params: [
      {
        name: 'rescale',
        label: 'Rescale',
        kind: 'choice',
        default: DEFAULT_RESCALE,
        options: [
          { value: 'tensor-mean', label: 'Σ per-tensor means (paper)' },
          { value: 'global', label: 'global sums' },
        ],
        help: 'How each task’s λₜ is summed: over the per-tensor means (the paper’s code) or globally.',
      },
    ],
  },
  avg: { title: 'Weight averaging', family: 'emr-paper', output: 'one model', params: [] },
  ta: {
    title: 'Task Arithmetic',
    family: 'emr-paper',
    output: 'one model',
    params: [paperLambda('Scales the sum of the task vectors.', DEFAULT_TA_LAMBDA)],
  },
  ties_paper: {
    title: 'TIES-Merging',
    family: 'emr-paper',
    output: 'one model',
    params: [
      {
        name: 'k',
        label: 'k, share of |τ| kept (%)',
        kind: 'number',
        default: DEFAULT_TIES_K,
        range: TIES_K_RANGE,
        scale: 100,
        unit: '%',
        step: 5,
        symbol: 'k',
        emptyHint: 'Enter the share of |τ| to keep, in %.',
        help: 'The largest |τ| kept over the whole model (one global top-k, the paper’s).',
      },
      paperLambda('Scales the merged task vector.', DEFAULT_TIES_LAMBDA),
    ],
  },
  ...MERGEKIT_PARAMS,
  ...SPECTRAL_PARAMS,
  ...PERTASK_PARAMS,
};

export const ANY_METHOD_NAMES = Object.keys(METHOD_TABLE) as AnyMethodName[];

export const isAnyMethodName = (name: string): name is AnyMethodName => Object.hasOwn(METHOD_TABLE, name);

/** The table's names of a family, in the table's order. */
export const methodsOf = (family: Family): AnyMethodName[] =>
  ANY_METHOD_NAMES.filter((m) => METHOD_TABLE[m].family === family);

export function paramInfo(method: AnyMethodName, name: string): ParamInfo | undefined {
  return METHOD_TABLE[method].params.find((p) => p.name === name);
}

/** The table's name of a spec: `ties_paper` for the paper's TIES, `ties` for mergekit's. */
export function methodNameOf(spec: AnyMethodSpec): AnyMethodName {
  switch (spec.method) {
    case 'mergekit':
    case 'spectral':
      return spec.name;
    case 'ties':
      return 'ties_paper';
    default:
      return spec.method;
  }
}

/** The form's raw value of a parameter: a per-task list is the text typed ("0.2, 0.3"). */
export type ParamValue = number | boolean | string;

/** A per-task field's text as one number or one per task; undefined when it is not a list of numbers. */
export function parsePerTask(text: string): number | number[] | undefined {
  const parts = text.split(',').map((x) => x.trim());
  if (parts.some((x) => x === '')) return undefined;
  const values = parts.map(Number);
  if (values.some((x) => Number.isNaN(x))) return undefined;
  return values.length === 1 ? (values[0] as number) : values;
}

/** A number in the unit the form shows it in ("20 %", "0.3"). */
const shown = (p: { scale?: number; unit?: string }, v: number) =>
  `${+(v * (p.scale ?? 1)).toPrecision(12)}${p.unit ? ` ${p.unit}` : ''}`;

/** The range in words, in the form's unit: "above 0 % and at most 100 %". */
export function rangeWords(p: { range: Range; scale?: number; unit?: string }): string {
  const r = p.range;
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${r.minExclusive ? 'above' : 'at least'} ${shown(p, r.min)}`);
  if (r.max !== undefined) parts.push(`${r.maxExclusive ? 'below' : 'at most'} ${shown(p, r.max)}`);
  return parts.join(' and ');
}

/**
 * What is wrong with a parameter's value as the form holds it (numbers in the spec's unit, NaN
 * for an empty field; a per-task list as its text), in the form's words and units; undefined when
 * it is valid. The range is the one the spec parser checks.
 */
export function validateParam(method: AnyMethodName, name: string, value: ParamValue): string | undefined {
  const p = paramInfo(method, name);
  if (!p) return `${METHOD_TABLE[method].title} takes no parameter ${name}.`;
  switch (p.kind) {
    case 'names':
      return typeof value === 'string' ? undefined : `${p.label}: tensor names separated by commas.`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${p.label} is on or off.`;
    case 'choice':
      return p.options.some((o) => o.value === value)
        ? undefined
        : `${p.label} is one of ${p.options.map((o) => o.label).join(', ')}.`;
    case 'per-task': {
      const symbol = p.symbol ?? p.name;
      const v = typeof value === 'number' ? value : parsePerTask(String(value));
      if (v === undefined || (typeof v === 'number' && Number.isNaN(v)))
        return `Enter a number for ${symbol}, or one per task separated by commas.`;
      const all = typeof v === 'number' ? [v] : v;
      return all.some((x) => rangeProblem(x, p.range) !== undefined)
        ? `${symbol} must be ${rangeWords(p) || 'a finite number'}.`
        : undefined;
    }
    case 'number':
    case 'integer': {
      const symbol = p.symbol ?? p.name;
      if (typeof value !== 'number' || Number.isNaN(value))
        return p.emptyMeans !== undefined ? undefined : (p.emptyHint ?? `Enter a number for ${symbol}.`);
      const problem = rangeProblem(value, p.kind === 'integer' ? { ...p.range, integer: true } : p.range);
      if (problem === undefined) return undefined;
      if (problem === 'not-an-integer') return `${symbol} must be a whole number.`;
      return `${symbol} must be ${rangeWords(p) || 'a finite number'}.`;
    }
  }
}

/** A parameter's default as the form holds it (a per-task list's text). */
export function formDefault(p: ParamInfo): ParamValue {
  return p.kind === 'per-task' ? String(p.default) : p.kind === 'names' ? p.default.join(', ') : p.default;
}

const names = (text: string) =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/**
 * The parameters to hand anyMethodSpec from the form's values: only those that differ from the
 * default (so the spec equals the CLI's for the same flags), with per-task lists parsed, and
 * slerp's t always (mergekit requires it).
 */
export function specParams(
  method: AnyMethodName,
  values: Readonly<Record<string, ParamValue>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of METHOD_TABLE[method].params) {
    const required = method === 'slerp' && p.name === 't';
    const v = values[p.name] ?? formDefault(p);
    const parsed =
      typeof v !== 'string' ? v : p.kind === 'per-task' ? parsePerTask(v) : p.kind === 'names' ? names(v) : v;
    const isDefault = Array.isArray(parsed)
      ? parsed.length === 0 && p.kind === 'names'
      : parsed === p.default || (p.kind === 'number' && p.emptyMeans !== undefined && Number.isNaN(parsed));
    if (!isDefault || required) out[p.name] = parsed;
  }
  return out;
}

/**
 * The spec the form's values make (anyMethodSpec: the same parser as the CLI's); throws its error.
 * mergekit's names are read as mergekit reads them (`ties` is mergekit's TIES here).
 */
export function formSpec(method: AnyMethodName, values: Readonly<Record<string, ParamValue>>): AnyMethodSpec {
  return anyMethodSpec(method, specParams(method, values), {
    mergekit: METHOD_TABLE[method].family === 'mergekit',
  });
}

/** What the form shows: each parameter's problem, and one that only the parameters together have. */
export interface FormProblems {
  readonly params: Readonly<Record<string, string>>;
  /** Refused by the parser though each value lies in its range (DELLA: density ± epsilon in (0, 1)). */
  readonly method?: string;
}

/** Every problem of the form's values for a method: per parameter, then the parser's own word. */
export function formProblems(
  method: AnyMethodName,
  values: Readonly<Record<string, ParamValue>>,
): FormProblems {
  const params: Record<string, string> = {};
  for (const p of METHOD_TABLE[method].params) {
    const error = validateParam(method, p.name, values[p.name] ?? formDefault(p));
    if (error !== undefined) params[p.name] = error;
  }
  if (Object.keys(params).length) return { params };
  try {
    formSpec(method, values);
    return { params };
  } catch (e) {
    return { params, method: (e as Error).message };
  }
}
