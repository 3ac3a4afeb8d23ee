// Hugging Face model folders on the way out: a task that came in as a folder (config.json beside
// model.safetensors or pytorch_model.bin) is written as a folder again — model.safetensors, its
// config and tokenizer files carried through, and a model card README.md whose YAML front matter
// names the base and the merge, with the recipe in mergekit's vocabulary. Which files travel and
// the card itself are src/flow/model-folder.ts, shared with the studio's export; this file is the
// Node side (reading the folder, writing files atomically).
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  isCarriedFile,
  mergekitRecipe,
  MODEL_CONFIG,
  MODEL_FILES,
  modelCard,
  modelName,
  RECIPE_FILE,
  type CardRecipe,
} from '../flow/model-folder';
import { atomicOutput } from './files';
import type { MergeJob } from './job';

/** The Hugging Face folder a task path names (the folder, or its model file), or undefined. */
export async function modelFolderOf(path: string): Promise<string | undefined> {
  const st = await lstat(path).catch(() => undefined);
  const dir = st?.isDirectory() ? path : MODEL_FILES.test(basename(path)) ? dirname(path) : undefined;
  if (dir === undefined) return undefined;
  const config = await lstat(join(dir, MODEL_CONFIG)).catch(() => undefined);
  return config?.isFile() ? dir : undefined;
}

/** The names of the config and tokenizer files in `from` that a model folder carries (regular files only). */
export async function carriedNames(from: string): Promise<string[]> {
  const names: string[] = [];
  for (const name of (await readdir(from).catch(() => [])).sort()) {
    const st = await lstat(join(from, name)).catch(() => undefined);
    if (st?.isFile() && isCarriedFile(name, st.size)) names.push(name);
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

/** README.md for a task of this job (src/flow/model-folder.ts: the studio writes the same card). */
export function jobModelCard(task: string, job: MergeJob): string {
  return modelCard(task, jobRecipe(job));
}

const jobRecipe = (job: MergeJob): CardRecipe => ({
  base: modelName(job.base),
  models: job.tasks.map((t) => ({ name: t.name, model: modelName(t.path) })),
  method: job.method,
});

/** `mergekit_config.yml` in `dir` for a mergekit method (src/flow/model-folder.ts); none otherwise. */
export async function writeRecipe(dir: string, job: MergeJob, signal?: AbortSignal): Promise<void> {
  const text = mergekitRecipe(jobRecipe(job), job.recipe);
  if (text !== undefined) await writeSmall(join(dir, RECIPE_FILE), new TextEncoder().encode(text), signal);
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
  await writeSmall(join(dir, 'README.md'), new TextEncoder().encode(jobModelCard(task, job)), signal);
  await writeRecipe(dir, job, signal);
  return written;
}
