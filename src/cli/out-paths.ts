// Every path a command will write, known before it writes anything, and checked against every
// input and against each other: no output may replace an input (a task's file, the base, a shard,
// external data, the YAML job, an adapter's config) or another output. Paths are compared as the
// entries the final rename replaces (real folder + name) and as the files they are (real path, and
// device + inode, which also catches hard links).
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Checkpoint } from '../formats/tensor';
import type { ModelSet } from '../merge/model-set';
import { taskNamesProblem } from '../merge/task-name';
import { taskFiles } from '../flow/write-task';
import { UsageError } from './job';

export class OutputConflictError extends Error {
  override readonly name = 'OutputConflictError';
}

export const BUNDLE_FILE = 'emr-bundle.safetensors';

export interface PlannedOutput {
  readonly path: string;
  /** What it is, for the message: `the model of task "a"`, `the bundle`. */
  readonly what: string;
}

/** Task names become file names only once they pass this (src/merge/task-name.ts). */
export function checkTaskNames(names: readonly string[]): void {
  const problem = taskNamesProblem(names);
  if (problem) throw new UsageError(`${problem}: task names become file names in --out`);
}

/** The files `merge` writes in `outDir` for this set, by the writer's own names (src/flow/write-task.ts). */
export function mergeOutputs(
  set: ModelSet,
  outDir: string,
  {
    bundle,
    shardBytes,
    folders = [],
  }: {
    /** Whether a bundle is written: EMR's (true) or a per-task method's artefact (its file name). */
    bundle: boolean | string;
    shardBytes: number;
    /** Per task, the Hugging Face folder it came from: it is written as `<out>/<task>/` (model-folder.ts). */
    folders?: readonly (string | undefined)[];
  },
): PlannedOutput[] {
  const out: PlannedOutput[] = [];
  set.tasks.forEach((task, t) => {
    const what = `the model of task ${JSON.stringify(task.name)}`;
    // The writer's own names (src/flow/write-task.ts). ONNX tasks are written as ONNX, in --out,
    // whatever folder they came from; a task from a model folder as `<out>/<task>/model…`.
    const inFolder = folders[t] !== undefined && task.checkpoint.format !== 'onnx';
    const files = taskFiles(set, t, {
      shardBytes,
      externalData: true,
      ...(inFolder ? { stem: 'model' } : {}),
    });
    const add = (file: string) =>
      out.push({ path: inFolder ? join(outDir, task.name, file) : join(outDir, file), what });
    if (inFolder) {
      add('README.md');
      add('config.json');
      add('mergekit_config.yml'); // mergekit's methods only (model-folder.ts writeRecipe)
    }
    files.forEach(add);
  });
  if (bundle) out.push({ path: join(outDir, bundle === true ? BUNDLE_FILE : bundle), what: 'the bundle' });
  if (set.tasks.some((_, t) => folders[t] === undefined))
    out.push({ path: join(outDir, 'mergekit_config.yml'), what: "the merge's recipe" });
  return out;
}

/** Every file a checkpoint is read from: its own files and each tensor's (an adapter's, a shard's). */
export function checkpointFiles(checkpoint: Checkpoint): string[] {
  const files = new Set(checkpoint.files);
  for (const e of checkpoint.tensors.values()) files.add(e.file);
  return [...files];
}

/** The files of the Hugging Face folders tasks came from that a model folder output would write over. */
export async function folderInputs(folders: readonly (string | undefined)[]): Promise<string[]> {
  const dirs = folders.filter((d): d is string => d !== undefined);
  const candidates = dirs.flatMap((d) => ['README.md', 'config.json'].map((n) => join(d, n)));
  const present = await Promise.all(
    candidates.map((p) =>
      lstat(p).then(
        () => p,
        () => undefined,
      ),
    ),
  );
  return present.filter((p): p is string => p !== undefined);
}

/** The input files of a model set: the base's and every task's. */
export function setInputs(set: ModelSet): string[] {
  return [set.base, ...set.tasks.map((t) => t.checkpoint)].flatMap(checkpointFiles);
}

interface Identity {
  readonly path: string;
  /** The folder entry: the real path of its folder (or nearest existing ancestor), then the rest. */
  readonly entry: string;
  /** The real path of the file, when it exists. */
  readonly real?: string | undefined;
  /** Device and inode of the file, when it exists. */
  readonly inode?: string;
}

async function realEntry(path: string): Promise<string> {
  const absolute = resolve(path);
  const parent = dirname(absolute);
  if (parent === absolute) return absolute;
  const dir = await realpath(parent).catch(() => undefined);
  return join(dir ?? (await realEntry(parent)), basename(absolute));
}

async function identify(path: string): Promise<Identity> {
  const s = await stat(path).catch(() => undefined);
  return {
    path,
    entry: await realEntry(path),
    ...(s ? { real: await realpath(path).catch(() => undefined), inode: `${s.dev}:${s.ino}` } : {}),
  };
}

/**
 * Refuses, naming both paths, when an output would replace an input (same entry, same real file or
 * same inode) or another output (same entry, compared case-insensitively: one file on macOS or
 * Windows). Call it before any work.
 */
export async function refuseClobbering(
  outputs: readonly PlannedOutput[],
  inputs: readonly string[],
): Promise<void> {
  const ins = await Promise.all([...new Set(inputs)].map(identify));
  const outs = await Promise.all(outputs.map(async (o) => ({ ...o, id: await identify(o.path) })));
  for (const o of outs) {
    const hit = ins.find(
      (i) =>
        o.id.entry === i.entry ||
        o.id.entry === i.real ||
        (o.id.real !== undefined && o.id.real === i.real) ||
        (o.id.inode !== undefined && o.id.inode === i.inode),
    );
    if (hit)
      throw new OutputConflictError(
        `${o.path} (${o.what}) would replace the input ${hit.path}: choose another --out${o.what.includes('task') ? ' or task name' : ''}`,
      );
  }
  const seen = new Map<string, (typeof outs)[number]>();
  for (const o of outs) {
    const key = o.id.entry.toLowerCase();
    const other = seen.get(key);
    if (other)
      throw new OutputConflictError(
        `${o.path} (${o.what}) and ${other.path} (${other.what}) would be the same file: choose other task names`,
      );
    seen.set(key, o);
  }
}
