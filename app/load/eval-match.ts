// Labeled sets given for "every task" at once, matched to the tasks by name: a file named after a
// task (eval/plain.safetensors, eval/lang.jsonl — the demo zoos' layout) or lying in a folder
// named after one (eval/plain/set.safetensors, images/plain/3/x.png). What matches no task, and
// a second set for a task that already has one, is refused by name rather than guessed at.
import { baseName } from './grouping';

export interface SetMatch<F extends { readonly path: string }> {
  readonly task: string;
  /** For a labeled-set file: the one file. For an image folder: its files, paths from the task folder on. */
  readonly files: readonly F[];
  /** The file, or the folder, as the user sees it. */
  readonly source: string;
}

export interface SetMatching<F extends { readonly path: string }> {
  readonly matched: readonly SetMatch<F>[];
  readonly refused: readonly { readonly source: string; readonly reason: string }[];
}

const SET_EXTENSIONS = /\.(safetensors|jsonl|ndjson|csv)$/i;
const key = (name: string) => name.trim().toLowerCase();

function taskLookup(tasks: readonly string[]): (name: string | undefined) => string | undefined {
  const byKey = new Map(tasks.map((t) => [key(t), t] as const));
  return (name) => (name === undefined ? undefined : byKey.get(key(name)));
}

const noTask = (what: string, tasks: readonly string[]) =>
  `no task is named ${what} (the tasks: ${tasks.join(', ')})`;

/** Labeled-set files (safetensors, JSONL, CSV), one per task, matched by file or folder name. */
export function matchSetFiles<F extends { readonly path: string }>(
  files: readonly F[],
  tasks: readonly string[],
): SetMatching<F> {
  const find = taskLookup(tasks);
  const matched: SetMatch<F>[] = [];
  const refused: { source: string; reason: string }[] = [];
  for (const f of files) {
    const stem = baseName(f.path).replace(SET_EXTENSIONS, '');
    const folder = f.path.split('/').slice(-2, -1)[0];
    const task = find(stem) ?? find(folder);
    const taken = matched.find((m) => m.task === task);
    if (!SET_EXTENSIONS.test(f.path))
      refused.push({ source: f.path, reason: 'not a labeled set (.safetensors, .jsonl, .csv)' });
    else if (task === undefined) refused.push({ source: f.path, reason: noTask(`"${stem}"`, tasks) });
    else if (taken) refused.push({ source: f.path, reason: `${task} already has ${taken.source}` });
    else matched.push({ task, files: [f], source: f.path });
  }
  return { matched, refused };
}

/**
 * A picked folder holding one folder of images by class per task (ROOT/TASK/CLASS/x.png), or one
 * task's own (TASK/CLASS/x.png): each task's files, with paths from its folder on.
 */
export function matchImageFolders<F extends { readonly path: string }>(
  files: readonly F[],
  tasks: readonly string[],
  rewrite: (file: F, path: string) => F,
): SetMatching<F> {
  const find = taskLookup(tasks);
  const byTask = new Map<string, { source: string; files: F[] }>();
  const unmatched = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    if (baseName(f.path).startsWith('.')) continue; // .DS_Store and the like
    // The first folder on the path named after a task (the file's own name never counts).
    const at = parts.slice(0, -1).findIndex((p) => find(p) !== undefined);
    if (at < 0) {
      unmatched.add(parts.slice(0, Math.min(2, parts.length - 1)).join('/') + '/');
      continue;
    }
    const task = find(parts[at]) as string;
    const entry = byTask.get(task) ?? { source: `${parts.slice(0, at + 1).join('/')}/`, files: [] };
    entry.files.push(rewrite(f, parts.slice(at).join('/')));
    byTask.set(task, entry);
  }
  return {
    matched: [...byTask].map(([task, e]) => ({ task, files: e.files, source: e.source })),
    refused: [...unmatched].map((source) => ({
      source,
      reason: noTask(`"${baseName(source.replace(/\/$/, ''))}"`, tasks),
    })),
  };
}
