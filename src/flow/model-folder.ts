// Hugging Face model folders, the part every surface shares: which small files a folder carries
// (config, tokenizer — copied as they are, never executed), and the model card README.md whose YAML
// front matter names the base and the merge, with the recipe in mergekit's vocabulary. Reading and
// writing the folder's files is the surface's (src/cli/model-folder.ts in Node).
import { stringify } from 'yaml';
import type { AnyMethodSpec } from '../merge/methods';

/** What a model card records: the base, the tasks (by the paths they came from) and the method. */
export interface MergeRecipe {
  readonly base: string;
  readonly tasks: readonly { readonly name: string; readonly path: string }[];
  readonly method: AnyMethodSpec;
}

/** A path's last part and the folder above it, as node:path has them (either separator). */
const lastSeparator = (p: string) => Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
const basename = (p: string) => p.slice(lastSeparator(p) + 1);
const dirname = (p: string) => {
  const i = lastSeparator(p);
  return i < 0 ? '.' : i === 0 ? p.slice(0, 1) : p.slice(0, i);
};

/** Small files a model folder needs to load and run, copied as they are (never executed). */
export const CARRIED = [
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
export const MODEL_FILES = /^(model\.safetensors|pytorch_model\.bin)(\.index\.json)?$/;

/** Whether a file of this name and size is carried into a model folder. */
export const isCarried = (name: string, bytes: number): boolean =>
  bytes <= MAX_CARRIED_BYTES && CARRIED.some((re) => re.test(name));

/** mergekit's names and parameters for a method spec. */
function recipeMethod(spec: AnyMethodSpec): { merge_method: string; parameters?: Record<string, unknown> } {
  switch (spec.method) {
    case 'mergekit': {
      const d = spec.defaults;
      const given = Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined));
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

const stemOf = (path: string) =>
  basename(path.replace(/[/\\]+$/, '')).replace(/\.(safetensors|bin|pt|pth|ckpt|onnx)$/i, '');

/** README.md: YAML front matter (base_model, tags), then the recipe that made this model. */
export function modelCard(task: string, job: MergeRecipe): string {
  const base = modelFolderName(job.base);
  const front = stringify({
    base_model: base,
    tags: ['merge', job.method.method === 'emr' ? 'emr-merging' : recipeMethod(job.method).merge_method],
  });
  const recipe = stringify({
    ...recipeMethod(job.method),
    base_model: base,
    models: job.tasks.map((t, i) => {
      const own = job.method.method === 'mergekit' ? job.method.models?.[i] : undefined;
      return { model: modelFolderName(t.path), name: t.name, ...(own ? { parameters: own } : {}) };
    }),
  });
  return [
    '---',
    front.trimEnd(),
    '---',
    '',
    `# ${task}`,
    '',
    `The task "${task}" of a merge of ${job.tasks.length} fine-tunes of \`${base}\`, made with Merge Studio.`,
    '',
    '## Recipe',
    '',
    '```yaml',
    recipe.trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** A folder's name for a folder or its model file; a file's stem otherwise. */
export function modelFolderName(path: string): string {
  return MODEL_FILES.test(basename(path)) ? basename(dirname(path)) : stemOf(path);
}
