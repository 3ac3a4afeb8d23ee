// A mergekit recipe (mergekit/config.py's MergeConfiguration) as a merge job, unchanged:
//   merge_method, base_model, models: [{model, parameters}] or one slice
//   (slices: [{sources: [{model, layer_range, parameters}], base_model, parameters}]),
//   parameters (scalars, gradients, `- filter: …, value: …` lists: ../merge/mergekit/settings),
//   dtype / out_dtype (the merged tensors' dtype; the arithmetic is f32), tokenizer_source and
//   chat_template (ignored with a note: the studio writes no tokenizer).
// Refused with the key named: unknown keys, `modules`, several slices (frankenmerges), a slice's
// `residual_weight`, `tokenizer` (a vocabulary rebuild). As in mergekit, the base model listed among
// the models is no model of the merge, but for `linear`, which weighs it like the others.
// Pure (text or a parsed document in, a job out): the models come back as the recipe names them,
// and each surface finds them — the CLI as paths relative to the recipe or Hub repos
// (src/cli/job.ts), the studio among the files loaded (src/flow/recipe-models.ts).
import { parse as parseYaml } from 'yaml';
import type { MergeDType } from '../../formats/dtype';
import { anyMethodSpec, type AnyMethodSpec } from '../methods';
import { checkSetting, probeSetting, type RecipeSettings, type Setting } from './settings';
import { isMergekitMethod, MERGEKIT_METHODS, mergekitParameterNames, type MergekitSpec } from './spec';

/** A recipe's problem, named by file and key (./job turns it into a usage error). */
export class RecipeError extends Error {
  override readonly name = 'RecipeError';
}
const UsageError = RecipeError;

/** A model as the recipe names it (`org/name`, a path), its `name:` if any, and where it is named. */
export interface RecipeModel {
  readonly ref: string;
  readonly name?: string | undefined;
  /** The recipe's key that names it, for messages: `models[1].model`, `base_model`. */
  readonly where: string;
}

export interface RecipeJob {
  /** base_model (the slice's, else the top level's); undefined where the recipe names none. */
  readonly base: RecipeModel | undefined;
  /** The models merged, in the recipe's order: the base left out, but for `linear`. */
  readonly models: readonly RecipeModel[];
  readonly method: AnyMethodSpec;
  /** The parameters as the recipe gives them (top level, and per model merged), to show. */
  readonly given: RecipeSettings;
  /** Keys read but not acted on (tokenizer_source, chat_template), one line each. */
  readonly notes: readonly string[];
}

const TOP_KEYS = [
  'merge_method',
  'base_model',
  'models',
  'slices',
  'parameters',
  'dtype',
  'out_dtype',
  'tokenizer_source',
  'chat_template',
  'tokenizer',
  'modules',
];

/** mergekit's dtype names (mergekit/common.py dtype_from_name) for the dtypes a merge writes. */
const DTYPES: Record<string, MergeDType> = {
  float32: 'F32',
  fp32: 'F32',
  float: 'F32',
  float16: 'F16',
  fp16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  bf16: 'BF16',
};

/** Methods mergekit runs without a base model (the others require one). */
const BASELESS = ['linear', 'multislerp', 'nuslerp'];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function refuseUnknown(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new UsageError(
      `${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`,
    );
}

interface ModelEntry extends RecipeModel {
  readonly parameters: Record<string, Setting>;
}

/** Every parameter name a mergekit method here takes (each method then refuses those it lacks). */
const MODEL_KEYS = [...new Set(MERGEKIT_METHODS.flatMap((m) => mergekitParameterNames(m).model))];
const GLOBAL_KEYS = [
  ...new Set([
    ...MERGEKIT_METHODS.flatMap((m) => mergekitParameterNames(m).global).filter((k) => k !== 'use_base'),
    ...MODEL_KEYS,
    'k',
    'topk',
  ]),
];

function settings(file: string, where: string, raw: unknown): Record<string, Setting> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new UsageError(`${file}: ${where} must be a mapping`);
  refuseUnknown(`${file}: ${where}`, raw, where.endsWith('].parameters') ? MODEL_KEYS : GLOBAL_KEYS);
  const out: Record<string, Setting> = {};
  for (const [k, v] of Object.entries(raw)) {
    try {
      out[k] = checkSetting(`${where}.${k}`, v);
    } catch (e) {
      throw new UsageError(`${file}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** The models (or the single slice's sources) with their parameters, and the slice's extras. */
function modelEntries(file: string, doc: Record<string, unknown>) {
  const { models, slices } = doc;
  if (doc['modules'] !== undefined)
    throw new UsageError(`${file}: "modules" (multi-module merges) is not supported; give models or slices`);
  if ((models === undefined) === (slices === undefined))
    throw new UsageError(`${file}: give exactly one of "models" and "slices"`);
  if (models !== undefined) {
    if (!Array.isArray(models) || models.length === 0)
      throw new UsageError(`${file}: models must be a list of {model: NAME, parameters: …}`);
    const entries = models.map((m, i): ModelEntry => {
      const where = `models[${i}].model`;
      if (typeof m === 'string') return { ref: m, where: `models[${i}]`, parameters: {} };
      if (!isRecord(m)) throw new UsageError(`${file}: models[${i}] must be a name or {model: NAME}`);
      refuseUnknown(`${file}: models[${i}]`, m, ['model', 'name', 'parameters']);
      if (typeof m['model'] !== 'string' || !m['model'])
        throw new UsageError(`${file}: models[${i}].model must be a model name or path`);
      return {
        ref: m['model'],
        where,
        name: typeof m['name'] === 'string' ? m['name'] : undefined,
        parameters: settings(file, `models[${i}].parameters`, m['parameters']),
      };
    });
    return { entries, sliceParameters: {}, sliceBase: undefined, layerRange: undefined };
  }
  if (!Array.isArray(slices) || slices.length === 0)
    throw new UsageError(`${file}: slices must be a list with one slice`);
  if (slices.length > 1)
    throw new UsageError(
      `${file}: ${slices.length} slices: multi-slice merges (frankenmerges, passthrough stacks) are not supported; give one slice whose sources cover every layer`,
    );
  const slice = slices[0];
  if (!isRecord(slice)) throw new UsageError(`${file}: slices[0] must be a mapping with sources`);
  refuseUnknown(`${file}: slices[0]`, slice, ['sources', 'base_model', 'parameters', 'residual_weight']);
  if (slice['residual_weight'] !== undefined)
    throw new UsageError(`${file}: slices[0].residual_weight is not supported`);
  const sources = slice['sources'];
  if (!Array.isArray(sources) || sources.length === 0)
    throw new UsageError(`${file}: slices[0].sources must be a list of {model, layer_range}`);
  let layerRange: [number, number] | undefined;
  const entries = sources.map((s, i): ModelEntry => {
    const where = `slices[0].sources[${i}]`;
    if (!isRecord(s)) throw new UsageError(`${file}: ${where} must be {model, layer_range}`);
    refuseUnknown(`${file}: ${where}`, s, ['model', 'layer_range', 'parameters']);
    const r = s['layer_range'];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => Number.isInteger(x)))
      throw new UsageError(`${file}: ${where}.layer_range must be [first, end]`);
    const range: [number, number] = [r[0] as number, r[1] as number];
    if (layerRange && (layerRange[0] !== range[0] || layerRange[1] !== range[1]))
      throw new UsageError(
        `${file}: ${where}.layer_range [${range.join(', ')}] differs from the first source's [${layerRange.join(', ')}]; only a slice over the same layers of every model is merged here`,
      );
    layerRange = range;
    if (typeof s['model'] !== 'string' || !s['model'])
      throw new UsageError(`${file}: ${where}.model must be a model name or path`);
    return {
      ref: s['model'],
      where: `${where}.model`,
      parameters: settings(file, `${where}.parameters`, s['parameters']),
    };
  });
  return {
    entries,
    sliceParameters: settings(file, 'slices[0].parameters', slice['parameters']),
    sliceBase: typeof slice['base_model'] === 'string' ? slice['base_model'] : undefined,
    layerRange,
  };
}

function dtypeOf(file: string, key: string, v: unknown): MergeDType | undefined {
  if (v === undefined || v === null) return undefined;
  const d = typeof v === 'string' ? DTYPES[v] : undefined;
  if (!d)
    throw new UsageError(`${file}: ${key} "${String(v)}" is not one of ${Object.keys(DTYPES).join(', ')}`);
  return d;
}

/** A recipe's text as a YAML mapping (mergekit's MergeConfiguration), or its problem in one line. */
export function recipeDocument(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc))
    throw new UsageError(`${file}: expected a mapping with merge_method, base_model and models`);
  return doc;
}

/**
 * A recipe's text in mergekit's vocabulary as a job: its merge_method must be one of mergekit's
 * (the studio's import; the CLI's YAML jobs also take the studio's own methods, src/cli/job.ts).
 */
export function readMergekitRecipe(text: string, file: string, seed?: number): RecipeJob {
  const doc = recipeDocument(text, file);
  const method = doc['merge_method'];
  if (typeof method !== 'string' || !isMergekitMethod(method))
    throw new UsageError(
      `${file}: merge_method ${method === undefined ? 'is missing' : `"${String(method)}" is not one of mergekit's`} (${MERGEKIT_METHODS.join(', ')})`,
    );
  return mergekitRecipeJob(doc, file, method, seed);
}

/** A mergekit recipe (a parsed document) as a job; `seed` is the CLI's --seed. */
export function mergekitRecipeJob(
  doc: Record<string, unknown>,
  file: string,
  method: string,
  seed?: number,
): RecipeJob {
  refuseUnknown(file, doc, TOP_KEYS);
  if (doc['tokenizer'] !== undefined)
    throw new UsageError(
      `${file}: "tokenizer" (a rebuilt vocabulary) is not supported; the merge keeps each model's own`,
    );
  const notes: string[] = [];
  for (const key of ['tokenizer_source', 'chat_template'])
    if (doc[key] !== undefined)
      notes.push(
        `${file}: ${key} ignored: the studio merges weights only; each output keeps its model's tokenizer files`,
      );
  const { entries, sliceParameters, sliceBase, layerRange } = modelEntries(file, doc);
  const baseRef = sliceBase ?? (typeof doc['base_model'] === 'string' ? doc['base_model'] : undefined);
  if (doc['base_model'] !== undefined && typeof doc['base_model'] !== 'string')
    throw new UsageError(`${file}: base_model must be a model name or path`);
  if (!baseRef && !BASELESS.includes(method))
    throw new UsageError(`${file}: ${method} needs base_model (mergekit's too)`);
  // The base is no model of the merge (mergekit's task vectors and interpolations skip it), but
  // `linear` weighs every model listed, the base included.
  const merged = entries.filter((e) => method === 'linear' || e.ref !== baseRef);
  if (merged.length === 0) throw new UsageError(`${file}: no model to merge besides the base`);
  const models = merged.map(({ ref, name, where }): RecipeModel => ({ ref, name, where }));
  const base: RecipeModel | undefined = baseRef
    ? { ref: baseRef, where: sliceBase ? 'slices[0].base_model' : 'base_model' }
    : undefined;
  const global = { ...settings(file, 'parameters', doc['parameters']), ...sliceParameters };
  if (seed !== undefined) {
    if (global['seed'] !== undefined)
      throw new UsageError(`${file}: parameters.seed and --seed: give the seed once`);
    global['seed'] = seed;
  }
  if (global['topk'] !== undefined) {
    if (global['k'] !== undefined) throw new UsageError(`${file}: parameters: give k or topk, not both`);
    global['k'] = global['topk'];
    delete global['topk'];
  }
  if (!baseRef && method !== 'linear') global['use_base'] = false;
  const perModel = merged.map((e) => e.parameters);
  const plain = (rec: Record<string, Setting>) => Object.values(rec).every((v) => typeof v !== 'object');
  const probe = (rec: Record<string, Setting>) =>
    Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, probeSetting(v)]));
  const hasModels = perModel.some((m) => Object.keys(m).length);
  if (global['k'] !== undefined && hasModels)
    throw new UsageError(
      `${file}: models[].parameters: per-model parameters are not supported by ${method} with k (the TIES paper's); set them under the top-level parameters`,
    );
  let spec: AnyMethodSpec;
  try {
    spec = anyMethodSpec(
      method,
      { ...probe(global), ...(hasModels ? { models: perModel.map(probe) } : {}) },
      { mergekit: true },
    );
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  if (spec.method !== 'mergekit') {
    if (!plain(global) || layerRange)
      throw new UsageError(
        `${file}: ${method} with k (the TIES paper's) takes one value per parameter and models, not slices`,
      );
    return { base, models, method: spec, given: { global, models: perModel }, notes };
  }
  const outDtype = dtypeOf(file, 'out_dtype', doc['out_dtype']) ?? dtypeOf(file, 'dtype', doc['dtype']);
  const recipeSettings: RecipeSettings | undefined =
    plain(global) && perModel.every(plain) ? undefined : { global, models: perModel };
  const full: MergekitSpec = {
    ...spec,
    ...(recipeSettings ? { settings: recipeSettings } : {}),
    ...(layerRange ? { layerRange } : {}),
    ...(outDtype ? { outDtype } : {}),
  };
  return { base, models, method: full, given: { global, models: perModel }, notes };
}
