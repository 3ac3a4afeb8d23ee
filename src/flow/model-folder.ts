// Hugging Face model folders on the way out, shared by the CLI and the studio: which of a folder's
// small files travel with a merged task (config, tokenizer), and the model card README.md whose
// YAML front matter names the base and the merge (so the Hub infers the merge relation), with the
// recipe in the vocabulary the CLI's YAML jobs read. Pure strings: no file system here, so the
// studio's export and the CLI's folder are the same bytes by construction.
import { stringify } from 'yaml';
import type { AnyMethodSpec } from '../merge/methods';
import type { MergekitSpec } from '../merge/mergekit/spec';
import { isPerTaskSpec, perTaskRecipe } from '../merge/pertask/spec';
import { spectralRecipeParameters } from '../merge/spectral/spec';

/** Small files a model folder needs to load and run, copied as they are (never executed). */
const CARRIED = [
  /^config\.json$/,
  /^generation_config\.json$/,
  /^preprocessor_config\.json$/,
  /^tokenizer(_config)?\.json$/,
  /^special_tokens_map\.json$/,
  /^added_tokens\.json$/,
  /^vocab\.(txt|json)$/,
  /^merges\.txt$/,
  /^(spiece|sentencepiece\.bpe|tokenizer)\.model$/,
];
/** A config or tokenizer is megabytes; anything larger is not carried. */
export const MAX_CARRIED_BYTES = 64 << 20;

/** Is a file of this name one a model folder carries through (a config or tokenizer file)? */
export function isCarriedName(name: string): boolean {
  return CARRIED.some((re) => re.test(name));
}

/** Is a file of this name and size one a model folder carries through? */
export function isCarriedFile(name: string, bytes: number): boolean {
  return bytes <= MAX_CARRIED_BYTES && isCarriedName(name);
}

/** The weights file names that make a folder with config.json a model folder. */
export const MODEL_FILES = /^(model\.safetensors|pytorch_model\.bin)(\.index\.json)?$/;

/** The config file whose presence beside the weights makes a folder a Hugging Face model folder. */
export const MODEL_CONFIG = 'config.json';

/** The card's name for the files a task or base came in as. */
export interface CardModel {
  /** The task's name in the merge. */
  readonly name: string;
  /** The model's name: `modelName` of its path. */
  readonly model: string;
}

export interface CardRecipe {
  /** `modelName` of the base's path. */
  readonly base: string;
  readonly models: readonly CardModel[];
  readonly method: AnyMethodSpec;
}

const segments = (path: string) => path.replace(/[/\\]+$/, '').split(/[/\\]+/);

/**
 * A model's name from its path: the folder's name for a folder or a folder's model file
 * ("my-bert/pytorch_model.bin" → "my-bert"), a file's stem otherwise ("base.bin" → "base").
 */
export function modelName(path: string): string {
  const parts = segments(path);
  const last = parts[parts.length - 1] ?? '';
  const parent = parts[parts.length - 2];
  if (MODEL_FILES.test(last) && parent !== undefined && parent !== '') return parent;
  return last.replace(/\.(safetensors|bin|pt|pth|ckpt|onnx)$/i, '');
}

/** The SLERP family's global parameters by mergekit's names (undefined for other methods). */
function slerpRecipeParameters(spec: MergekitSpec): Record<string, unknown> | undefined {
  if (spec.name === 'slerp') return { t: spec.t };
  if (spec.name === 'multislerp') return { normalize_weights: spec.normalizeWeights, eps: spec.eps };
  if (spec.name === 'nuslerp') return { nuslerp_row_wise: spec.rowWise, nuslerp_flatten: spec.flatten };
  return undefined;
}

/** mergekit's names and parameters for a method spec. */
export function recipeMethod(spec: AnyMethodSpec): {
  merge_method: string;
  parameters?: Record<string, unknown>;
} {
  if (isPerTaskSpec(spec)) return perTaskRecipe(spec);
  switch (spec.method) {
    case 'mergekit': {
      const d = spec.defaults;
      const given = Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined));
      const slerp = slerpRecipeParameters(spec);
      if (slerp) return { merge_method: spec.name, parameters: { ...given, ...slerp } };
      return {
        merge_method: spec.name,
        parameters: {
          ...given,
          ...(spec.name === 'model_stock'
            ? { filter_wise: spec.filterWise }
            : { normalize: spec.normalize, rescale: spec.rescale, lambda: spec.lambda }),
          ...(/^(dare|della)/.test(spec.name) ? { seed: spec.seed } : {}),
        },
      };
    }
    case 'spectral':
      return { merge_method: spec.name, parameters: spectralRecipeParameters(spec) };
    case 'emr':
      return { merge_method: 'emr', parameters: { rescale: spec.rescale } };
    case 'avg':
      return { merge_method: 'linear' };
    case 'ta':
      return { merge_method: 'task_arithmetic', parameters: { lambda: spec.lambda } };
    case 'ties':
      return { merge_method: 'ties', parameters: { k: spec.k, lambda: spec.lambda } };
  }
}

/** README.md: YAML front matter (base_model, tags), then the recipe that made this model. */
export function modelCard(task: string, recipe: CardRecipe): string {
  const { base, method } = recipe;
  const front = stringify({
    base_model: base,
    tags: ['merge', method.method === 'emr' ? 'emr-merging' : recipeMethod(method).merge_method],
  });
  const body = stringify({
    ...recipeMethod(method),
    base_model: base,
    models: recipe.models.map((m, i) => {
      const own = method.method === 'mergekit' ? method.models?.[i] : undefined;
      return { model: m.model, name: m.name, ...(own ? { parameters: own } : {}) };
    }),
  });
  return [
    '---',
    front.trimEnd(),
    '---',
    '',
    `# ${task}`,
    '',
    `The task "${task}" of a merge of ${recipe.models.length} fine-tunes of \`${base}\`, made with Merge Studio.`,
    '',
    '## Recipe',
    '',
    '```yaml',
    body.trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** The file mergekit writes its recipe to, beside the model. */
export const RECIPE_FILE = 'mergekit_config.yml';

/**
 * `mergekit_config.yml` for a mergekit method: the recipe as given (a YAML file's text, verbatim),
 * or, for a merge given by flags, the recipe it amounts to. Undefined for other methods.
 */
export function mergekitRecipe(recipe: CardRecipe, given?: string): string | undefined {
  const { method } = recipe;
  if (method.method !== 'mergekit') return undefined;
  return (
    given ??
    stringify({
      ...recipeMethod(method),
      base_model: recipe.base,
      models: recipe.models.map((m, i) => {
        const own = method.models?.[i];
        return { model: m.model, ...(own ? { parameters: own } : {}) };
      }),
    })
  );
}
