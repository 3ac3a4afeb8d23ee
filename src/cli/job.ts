// A merge job from the command line's flags, or from a YAML file in mergekit's vocabulary:
//   merge_method: emr | avg | ta | ties | ties_paper | a mergekit method (task_arithmetic, ties,
//                 dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties, della, della_linear, linear,
//                 model_stock, slerp, multislerp, nuslerp)
//   base_model: PATH
//   parameters: { lambda, k, rescale, … and mergekit's: weight, density, gamma, epsilon, normalize,
//                 rescale, int8_mask, seed, filter_wise, t, normalize_weights, eps,
//                 nuslerp_row_wise, nuslerp_flatten }
//   models: [{ model: PATH, name: NAME, parameters: { weight, density, gamma, epsilon } }]
// `ties` is mergekit's in a YAML recipe unless given `k` (the TIES paper's variant, as `ties_paper`);
// see docs/merge.md#ties-mapping. Unknown keys are refused by name, so a typo never silently
// changes a merge.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isRemote, remoteTaskName } from './remote';
import { anyMethodSpec, METHOD_NAMES, type AnyMethodSpec } from '../merge/methods';
import { MERGEKIT_METHODS, isMergekitMethod, type ModelParamsInput } from '../merge/mergekit/spec';
import { SPECTRAL_METHODS } from '../merge/spectral/spec';
import { mergekitRecipeJob, RecipeError, recipeDocument, type RecipeJob } from '../merge/mergekit/recipe';
import { DEFAULT_TALL_LAMBDA, PERTASK_METHODS } from '../merge/pertask/spec';

export interface MergeJob {
  readonly base: string;
  readonly tasks: readonly { readonly name: string; readonly path: string }[];
  readonly method: AnyMethodSpec;
  /** A YAML recipe's text, as written beside each output (mergekit_config.yml). */
  readonly recipe?: string;
  /** What a recipe gave that the merge does not act on, one line each. */
  readonly notes?: readonly string[];
}

/** Every name `merge` takes: the studio's, the TIES paper's explicit name, mergekit's. */
const MERGE_METHODS: readonly string[] = [
  ...new Set([...METHOD_NAMES, 'ties_paper', ...MERGEKIT_METHODS, ...SPECTRAL_METHODS, ...PERTASK_METHODS]),
];

function mergeMethodName(name: string): string {
  if (!MERGE_METHODS.includes(name))
    throw new UsageError(`unknown merge method "${name}" (use one of ${MERGE_METHODS.join(', ')})`);
  return name;
}

function anySpec(name: string, params: Record<string, unknown>, mergekit: boolean): AnyMethodSpec {
  try {
    return anyMethodSpec(name, params, { mergekit });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const MODEL_KEYS = ['weight', 'density', 'gamma', 'epsilon'];
const BOOLEAN_KEYS = [
  'normalize',
  'rescale',
  'int8_mask',
  'filter_wise',
  'normalize_weights',
  'nuslerp_row_wise',
  'nuslerp_flatten',
];
/** The spectral methods' numbers (FusionBench's names; docs/merge.md#spectral). */
const SPECTRAL_KEYS = ['alpha', 'scaling_factor', 'common_space_fraction'];
/** The per-task methods' (src/merge/pertask/spec.ts): tall_base is a name, the others numbers. */
const PERTASK_KEYS = ['tall_base', 'tall_lambda', 'drop_ratio', 'sv_reduction'];
/** `--param KEY=VALUE`: mergekit's parameters (one value for every model), the spectral and per-task methods'. */
const PARAM_KEYS = [...MODEL_KEYS, ...BOOLEAN_KEYS, 't', 'eps', ...SPECTRAL_KEYS, ...PERTASK_KEYS];

export interface MethodFlags {
  readonly method?: string | undefined;
  readonly lambda?: string | undefined;
  readonly topk?: string | undefined;
  readonly rescale?: string | undefined;
  readonly seed?: string | undefined;
  readonly param?: readonly string[] | undefined;
}

/**
 * The method flags' parameters by their spec names (`--topk` is `k`), each `--param` checked against
 * the keys any method takes and parsed to its type; undefined where a flag was not given.
 */
export function paramsFromFlags(f: Omit<MethodFlags, 'method'>): Record<string, unknown> {
  const params: Record<string, unknown> = {
    lambda: numberFlag('lambda', f.lambda),
    k: numberFlag('topk', f.topk),
    rescale: f.rescale,
    seed: numberFlag('seed', f.seed),
  };
  for (const p of f.param ?? []) {
    const eq = p.indexOf('=');
    const key = p.slice(0, eq);
    if (eq < 1) throw new UsageError(`--param wants KEY=VALUE, got "${p}"`);
    if (!PARAM_KEYS.includes(key))
      throw new UsageError(`--param: unknown key "${key}" (known: ${PARAM_KEYS.join(', ')})`);
    if (params[key] !== undefined) throw new UsageError(`--param ${key} is given twice (or with --${key})`);
    const value = p.slice(eq + 1);
    if (key === 'tall_base') params[key] = value;
    else if (!BOOLEAN_KEYS.includes(key)) params[key] = numberFlag(`param ${key}`, value);
    else if (value === 'true' || value === 'false') params[key] = value === 'true';
    else throw new UsageError(`--param ${key} wants true or false, got "${value}"`);
  }
  return params;
}

/** `merge`'s method flags: --method, --lambda, --topk, --rescale (EMR's), --seed, --param KEY=VALUE. */
export function specFromFlags(f: MethodFlags): AnyMethodSpec {
  return methodByName(f.method ?? 'emr', paramsFromFlags(f));
}

/** A method by any name `merge --method` takes, with the given parameters (refused by name when it takes no such one). */
export function methodByName(name: string, params: Record<string, unknown>): AnyMethodSpec {
  return anySpec(mergeMethodName(name), params, false);
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A task name from a file name: "vit-mnist.safetensors" → "vit-mnist"; HF's pytorch_model.bin → its folder. */
export function taskNameFromPath(path: string): string {
  if (isRemote(path)) return remoteTaskName(path);
  const name = basename(path).replace(
    /\.(safetensors\.index\.json|bin\.index\.json|index\.json|safetensors|onnx|bin|pt|pth|ckpt)$/i,
    '',
  );
  return name === 'model' || name === 'pytorch_model' ? basename(dirname(resolve(path))) : name;
}

/** `--task NAME=FILE` or `--task FILE`. */
export function parseTaskFlag(flag: string): { name: string; path: string } {
  const eq = flag.indexOf('=');
  if (eq === 0) throw new UsageError(`--task ${flag}: the task name is empty (give NAME=FILE, or FILE)`);
  if (eq > 0 && !flag.slice(0, eq).includes('/'))
    return { name: flag.slice(0, eq), path: flag.slice(eq + 1) };
  return { name: taskNameFromPath(flag), path: flag };
}

export function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x)) throw new UsageError(`--${name} wants a number, got "${value}"`);
  return x;
}

function refuseUnknown(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new UsageError(
      `${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`,
    );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths in the YAML are relative to the YAML file; `seed` is `--seed` (mergekit's --random-seed). */
export function jobFromYaml(text: string, file: string, seed?: number): MergeJob {
  let doc: Record<string, unknown>;
  try {
    doc = recipeDocument(text, file);
  } catch (e) {
    throw e instanceof RecipeError ? new UsageError(e.message) : e;
  }
  const method = mergeMethodName(String(doc['merge_method'] ?? 'emr'));
  const here = dirname(file);
  const path = (p: unknown, what: string) => {
    if (typeof p !== 'string' || !p) throw new UsageError(`${file}: ${what} must be a path`);
    if (isRemote(p)) return p;
    const local = resolve(here, p);
    // As in mergekit, a model that is no local path but reads as `org/name[@rev]` is a Hub repo.
    if (!existsSync(local) && /^[\w.-]+\/[\w.-]+(@[^/\s]+)?$/.test(p)) return `hf://${p}`;
    return local;
  };
  // mergekit's methods take mergekit's whole recipe vocabulary (src/merge/mergekit/recipe.ts); its
  // models are found here, as paths relative to the recipe or Hub repos.
  if (isMergekitMethod(method)) {
    let r: RecipeJob;
    try {
      r = mergekitRecipeJob(doc, file, method, seed);
    } catch (e) {
      throw e instanceof RecipeError ? new UsageError(e.message) : e;
    }
    const tasks = r.models.map((m) => {
      const p = path(m.ref, m.where);
      return { name: m.name ?? taskNameFromPath(p), path: p };
    });
    // Without a base, the first model stands in as the set's base: only tensor alignment uses it.
    const base = r.base ? path(r.base.ref, r.base.where) : (tasks[0] as { path: string }).path;
    return { base, tasks, method: r.method, recipe: text, notes: r.notes };
  }
  refuseUnknown(file, doc, ['merge_method', 'base_model', 'models', 'parameters', 'dtype']);
  if (doc['dtype'] !== undefined)
    throw new UsageError(
      `${file}: "dtype" is not supported: each task's model is written in that task's own dtype`,
    );
  const base = path(doc['base_model'], 'base_model');
  const models = doc['models'];
  if (!Array.isArray(models))
    throw new UsageError(`${file}: models must be a list of {model: PATH, name: NAME}`);
  const perModel: ModelParamsInput[] = [];
  const tasks = models.map((m, i) => {
    perModel.push({});
    if (typeof m === 'string') return { name: taskNameFromPath(m), path: path(m, `models[${i}]`) };
    if (!isRecord(m))
      throw new UsageError(`${file}: models[${i}] must be a path or {model: PATH, name: NAME}`);
    refuseUnknown(`${file}: models[${i}]`, m, ['model', 'name', 'parameters']);
    const own = m['parameters'] ?? {};
    if (!isRecord(own)) throw new UsageError(`${file}: models[${i}].parameters must be a mapping`);
    // tall_mask's λ_t may be set per task (models[].parameters.lambda).
    refuseUnknown(`${file}: models[${i}].parameters`, own, method === 'tall_mask' ? ['lambda'] : MODEL_KEYS);
    perModel[i] = Object.fromEntries(
      Object.keys(own).map((k) => [k, scalar(file, `models[${i}].parameters.${k}`, own[k], 'number')]),
    );
    const p = path(m['model'], `models[${i}].model`);
    return { name: typeof m['name'] === 'string' ? m['name'] : taskNameFromPath(p), path: p };
  });
  const raw = doc['parameters'] ?? {};
  if (!isRecord(raw)) throw new UsageError(`${file}: parameters must be a mapping`);
  const known = ['lambda', 'k', 'topk', 'seed', ...PARAM_KEYS, 'exclude_keys'];
  refuseUnknown(`${file}: parameters`, raw, known);
  const params: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    // FusionBench's lists: tsv_m's alpha per task, the spectral methods' exclude_keys.
    if (key === 'exclude_keys' || (key === 'alpha' && Array.isArray(v))) {
      params[key] = fusionBenchList(file, key, v);
      continue;
    }
    const kind =
      (key === 'rescale' && typeof v === 'string') || key === 'tall_base'
        ? 'string'
        : BOOLEAN_KEYS.includes(key)
          ? 'boolean'
          : 'number';
    params[key === 'topk' ? 'k' : key] = scalar(file, `parameters.${key}`, v, kind);
  }
  if (seed !== undefined) {
    if (params['seed'] !== undefined)
      throw new UsageError(`${file}: parameters.seed and --seed: give the seed once`);
    params['seed'] = seed;
  }
  if (raw['k'] !== undefined && raw['topk'] !== undefined)
    throw new UsageError(`${file}: parameters: give k or topk, not both`);
  if (method === 'tall_mask' && perModel.some((p) => p['lambda' as never] !== undefined)) {
    if (params['lambda'] !== undefined)
      throw new UsageError(`${file}: give lambda under parameters or per model, not both`);
    // A task without its own λ_t takes the default (src/merge/pertask/spec.ts).
    params['lambda'] = perModel.map(
      (p) => (p as Record<string, number | undefined>)['lambda'] ?? DEFAULT_TALL_LAMBDA,
    );
  } else if (perModel.some((p) => Object.keys(p).length)) {
    if (!MERGEKIT_METHODS.includes(method as never) || params['k'] !== undefined)
      throw new UsageError(
        `${file}: models[].parameters: per-model parameters are not supported by ${method}; set them under the top-level parameters`,
      );
    params['models'] = perModel;
  }
  try {
    return { base, tasks, method: anySpec(method, params, true) };
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
}

function fusionBenchList(file: string, key: string, v: unknown): unknown[] {
  const kind = key === 'alpha' ? 'number' : 'string';
  if (!Array.isArray(v) || v.some((x) => typeof x !== kind))
    throw new UsageError(`${file}: parameters.${key} must be a list of ${kind}s`);
  return v as unknown[];
}

/** A parameter's value: one number (or boolean, or EMR's rescale name) — mergekit's gradients and filters are not taken. */
function scalar(file: string, where: string, v: unknown, kind: 'number' | 'boolean' | 'string'): unknown {
  if (Array.isArray(v) || isRecord(v))
    throw new UsageError(
      `${file}: ${where}: gradients and per-filter values are not supported; give one ${kind}`,
    );
  if (typeof v !== kind)
    throw new UsageError(`${file}: ${where} must be ${kind === 'boolean' ? 'true or false' : `a ${kind}`}`);
  return v;
}
