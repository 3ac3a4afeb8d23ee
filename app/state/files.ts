// The files slice: every checkpoint the user added, what its headers said, its role and task
// name, and the alignment report of the current selection. Transitions are pure functions of the
// state, so tests drive them without a worker.
import { createStore } from 'zustand/vanilla';
import { guessRoles, taskNames, type Role } from '../load/grouping';
import type { AlignOutcome, CheckpointSummary, Selection } from '../worker/protocol';

export type FileRole = Role | 'bundle';

export interface LoadedCheckpoint {
  readonly id: string;
  /** The primary file's path (an index, a .safetensors, an .onnx). */
  readonly label: string;
  /** Every file of the group, primary first. */
  readonly paths: readonly string[];
  readonly status: 'opening' | 'ready' | 'error';
  readonly summary?: CheckpointSummary;
  /** Why the file was refused, in words (a FormatError's message). */
  readonly error?: string;
  readonly role: FileRole;
  readonly taskName: string;
}

export interface FilesState {
  readonly checkpoints: readonly LoadedCheckpoint[];
  /** Files of a dropped folder that are plainly not weights (READMEs, manifests). */
  readonly skipped: readonly string[];
  readonly alignment: AlignOutcome | undefined;
  /** Where the files came from: the demo zoo or the user's own. */
  readonly origin: 'none' | 'demo' | 'user';
  /** The demo zoo being fetched, or why it could not be. */
  readonly demo: { readonly loading: boolean; readonly loaded?: boolean; readonly error?: string };
}

export const initialFiles: FilesState = {
  checkpoints: [],
  skipped: [],
  alignment: undefined,
  origin: 'none',
  demo: { loading: false },
};

export const filesStore = createStore<FilesState>(() => initialFiles);

let nextId = 0;
export const newCheckpointId = () => `ckpt-${++nextId}`;

/** Adds freshly grouped files: the first base-looking one becomes the base if there is none yet. */
export function withAdded(
  state: FilesState,
  groups: readonly { id: string; paths: readonly string[] }[],
  skipped: readonly string[] = [],
  hints: { baseLabel?: string; taskNames?: ReadonlyMap<string, string> } = {},
): FilesState {
  const hasBase = state.checkpoints.some((c) => c.role === 'base');
  const labels = groups.map((g) => g.paths[0] ?? '');
  const roles = guessRoles(labels).map((r, i) => {
    if (hints.baseLabel !== undefined) return labels[i] === hints.baseLabel && !hasBase ? 'base' : 'task';
    return r === 'base' && hasBase ? 'task' : r;
  });
  const taskLabels = labels.filter((_, i) => roles[i] === 'task');
  const guessed = taskNames(taskLabels);
  const taken = new Set(state.checkpoints.map((c) => c.taskName));
  let k = 0;
  const added = groups.map((g, i): LoadedCheckpoint => {
    const role = roles[i] ?? 'task';
    const label = labels[i] ?? '';
    let name = role === 'task' ? (hints.taskNames?.get(label) ?? guessed[k++] ?? 'task') : '';
    for (let n = 2; name && taken.has(name); n++) name = `${name.replace(/-\d+$/, '')}-${n}`;
    if (name) taken.add(name);
    return { id: g.id, label, paths: g.paths, status: 'opening', role, taskName: name };
  });
  return {
    ...state,
    checkpoints: [...state.checkpoints, ...added],
    skipped: [...state.skipped, ...skipped],
  };
}

export function withOpened(
  state: FilesState,
  id: string,
  outcome: { ok: true; summary: CheckpointSummary } | { ok: false; message: string },
): FilesState {
  return {
    ...state,
    checkpoints: state.checkpoints.map((c) => {
      if (c.id !== id) return c;
      if (!outcome.ok) return { ...c, status: 'error', error: outcome.message, role: 'ignore' };
      // A bundle is recognised from its metadata, whatever its name.
      const role = outcome.summary.isBundle ? 'bundle' : c.role;
      return { ...c, status: 'ready', summary: outcome.summary, role };
    }),
  };
}

/** Sets a role; a new base demotes the old one to a task (there is one base). */
export function withRole(state: FilesState, id: string, role: FileRole): FilesState {
  return {
    ...state,
    checkpoints: state.checkpoints.map((c) => {
      if (c.id === id) {
        const taskName = role === 'task' && !c.taskName ? (taskNames([c.label])[0] ?? 'task') : c.taskName;
        return { ...c, role, taskName };
      }
      if (role === 'base' && c.role === 'base')
        return { ...c, role: 'task', taskName: c.taskName || taskNames([c.label])[0] || 'task' };
      return c;
    }),
  };
}

export function withTaskName(state: FilesState, id: string, name: string): FilesState {
  return {
    ...state,
    checkpoints: state.checkpoints.map((c) => (c.id === id ? { ...c, taskName: name } : c)),
  };
}

export function withRemoved(state: FilesState, id: string): FilesState {
  const checkpoints = state.checkpoints.filter((c) => c.id !== id);
  // With every file gone, the demo can be loaded again.
  return { ...state, checkpoints, demo: checkpoints.length ? state.demo : { loading: false } };
}

/** What the worker merges: the ready base and the ready tasks, or undefined with no base. */
export function selectionOf(state: FilesState): Selection | undefined {
  const ready = state.checkpoints.filter((c) => c.status === 'ready');
  const base = ready.find((c) => c.role === 'base');
  if (!base) return undefined;
  return {
    baseId: base.id,
    tasks: ready.filter((c) => c.role === 'task').map((c) => ({ id: c.id, name: c.taskName.trim() })),
  };
}

/** Task names that would be refused: empty or used twice. */
export function taskNameProblems(state: FilesState): Map<string, string> {
  const problems = new Map<string, string>();
  const tasks = state.checkpoints.filter((c) => c.role === 'task' && c.status !== 'error');
  const count = new Map<string, number>();
  for (const t of tasks) count.set(t.taskName.trim(), (count.get(t.taskName.trim()) ?? 0) + 1);
  for (const t of tasks) {
    const name = t.taskName.trim();
    if (!name) problems.set(t.id, 'A task needs a name.');
    else if ((count.get(name) ?? 0) > 1) problems.set(t.id, `Another task is also named "${name}".`);
  }
  return problems;
}
