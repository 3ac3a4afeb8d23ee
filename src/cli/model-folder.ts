// Hugging Face model folders on the way out: a task that came in as a folder (config.json beside
// model.safetensors or pytorch_model.bin) is written as a folder again — model.safetensors, its
// config and tokenizer files carried through, and a model card README.md whose YAML front matter
// names the base and the merge, with the recipe in mergekit's vocabulary.
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { AnyMethodSpec } from '../merge/methods';
import { isPerTaskSpec, perTaskRecipe } from '../merge/pertask/spec';
import { atomicOutput } from './files';
import type { MergeJob } from './job';

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
const MAX_CARRIED_BYTES = 64 << 20;
const MODEL_FILES = /^(model\.safetensors|pytorch_model\.bin)(\.index\.json)?$/;

/** The Hugging Face folder a task path names (the folder, or its model file), or undefined. */
export async function modelFolderOf(path: string): Promise<string | undefined> {
  const st = await lstat(path).catch(() => undefined);
  const dir = st?.isDirectory() ? path : MODEL_FILES.test(basename(path)) ? dirname(path) : undefined;
  if (dir === undefined) return undefined;
  const config = await lstat(join(dir, 'config.json')).catch(() => undefined);
  return config?.isFile() ? dir : undefined;
}

/** The names of the config and tokenizer files in `from` that a model folder carries (regular files only). */
export async function carriedNames(from: string): Promise<string[]> {
  const names: string[] = [];
  for (const name of (await readdir(from).catch(() => [])).sort()) {
    if (!CARRIED.some((re) => re.test(name))) continue;
    const st = await lstat(join(from, name)).catch(() => undefined);
    if (st?.isFile() && st.size <= MAX_CARRIED_BYTES) names.push(name);
  }
  return names;
}

/** A small file written under an exclusive temporary name and renamed into place (never through a link). */
async function writeSmall(path: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  const out = await atomicOutput(path, signal);
  try {
    await out.sink.write(bytes);
    await out.sink.close();
    await out.commit();
  } catch (e) {
    await out.discard();
    throw e;
  }
}

/** Copies the folder's config and tokenizer files (regular files only, no links) into `out`. */
export async function carryFolderFiles(from: string, out: string, signal?: AbortSignal): Promise<string[]> {
  const carried = await carriedNames(from);
  for (const name of carried) await writeSmall(join(out, name), await readFile(join(from, name)), signal);
  return carried;
}

/** mergekit's names and parameters for a method spec. */
function recipeMethod(spec: AnyMethodSpec): { merge_method: string; parameters?: Record<string, unknown> } {
  if (isPerTaskSpec(spec)) return perTaskRecipe(spec);
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
export function modelCard(task: string, job: MergeJob): string {
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
function modelFolderName(path: string): string {
  return MODEL_FILES.test(basename(path)) ? basename(dirname(path)) : stemOf(path);
}

/**
 * Writes a task as a model folder `<out>/<task>/`: its weights by `write(dir)` (as model.safetensors),
 * the source folder's config and tokenizer files, and the model card.
 */
export async function writeModelFolder<W>(
  out: string,
  task: string,
  source: string,
  job: MergeJob,
  signal: AbortSignal | undefined,
  write: (dir: string) => Promise<W>,
): Promise<W> {
  // never a folder outside `out`: the task's name is one path segment
  if (/[/\\]/.test(task) || task === '.' || task === '..' || task === '')
    throw new Error(`task name ${JSON.stringify(task)} cannot name a folder inside ${out}`);
  const dir = join(out, task);
  await mkdir(dir, { recursive: true });
  const written = await write(dir);
  await carryFolderFiles(source, dir, signal);
  await writeSmall(join(dir, 'README.md'), new TextEncoder().encode(modelCard(task, job)), signal);
  return written;
}
