// The files slice: every checkpoint the user added, what its headers said, its role and task
// name, and the alignment report of the current selection. Transitions are pure functions of the
// state, so tests drive them without a worker.
import { createStore } from 'zustand/vanilla';
import type { ZooName } from '../load/demo';
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
  /** Sampled contents and sizes (app/load/fingerprint): the same model added twice has the same. */
  readonly fingerprint?: string;
  /** The label of the card this file is a copy of: refused, never a second base or task. */
  readonly duplicateOf?: string;
  /** Why the file got the role it has, when that is not what its name suggests. */
  readonly note?: string;
}

export interface FilesState {
  readonly checkpoints: readonly LoadedCheckpoint[];
  /** Files of a dropped folder that are plainly not weights (READMEs, manifests). */
  readonly skipped: readonly string[];
  readonly alignment: AlignOutcome | undefined;
  /** Where the files came from: the demo zoo or the user's own. */
  readonly origin: 'none' | 'demo' | 'user';
  /** The demo zoo being fetched, or why it could not be. */
  readonly demo: { readonly loading: boolean; readonly loaded?: ZooName; readonly error?: string };
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

export interface AddedGroup {
  readonly id: string;
  readonly paths: readonly string[];
  readonly fingerprint?: string;
}

/** The card an added group copies: an earlier card, or an earlier group of the same batch. */
export function duplicatesOf(state: FilesState, groups: readonly AddedGroup[]): Map<string, string> {
  const seen = new Map<string, string>();
  for (const c of state.checkpoints)
    if (c.fingerprint && !c.duplicateOf && c.status !== 'error') seen.set(c.fingerprint, c.label);
  const out = new Map<string, string>();
  for (const g of groups) {
    if (!g.fingerprint) continue;
    const first = seen.get(g.fingerprint);
    if (first !== undefined) out.set(g.id, first);
    else seen.set(g.fingerprint, g.paths[0] ?? '');
  }
  return out;
}

/**
 * Adds freshly grouped files: the first base-looking one becomes the base if there is none yet. A
 * group with the fingerprint of a card already there (or of an earlier group) is a copy: its card
 * says which file it repeats, and it takes no role.
 */
export function withAdded(
  state: FilesState,
  groups: readonly AddedGroup[],
  skipped: readonly string[] = [],
  hints: { baseLabel?: string; taskNames?: ReadonlyMap<string, string> } = {},
): FilesState {
  const copies = duplicatesOf(state, groups);
  const fresh = groups.filter((g) => !copies.has(g.id));
  const base = state.checkpoints.find((c) => c.role === 'base');
  const labels = fresh.map((g) => g.paths[0] ?? '');
  const guessedRoles = guessRoles(labels).map((r, i) =>
    hints.baseLabel !== undefined ? (labels[i] === hints.baseLabel ? 'base' : 'task') : r,
  );
  // A second base is never made a task behind the user's back: it is set aside, and its card says so.
  const roles = guessedRoles.map((r) => (r === 'base' && base ? 'ignore' : r));
  const taskLabels = labels.filter((_, i) => roles[i] === 'task');
  const guessed = taskNames(taskLabels);
  const taken = new Set(state.checkpoints.map((c) => c.taskName));
  let k = 0;
  const added = new Map(
    fresh.map((g, i): [string, LoadedCheckpoint] => {
      const role = roles[i] ?? 'task';
      const label = labels[i] ?? '';
      let name = role === 'task' ? (hints.taskNames?.get(label) ?? guessed[k++] ?? 'task') : '';
      for (let n = 2; name && taken.has(name); n++) name = `${name.replace(/-\d+$/, '')}-${n}`;
      if (name) taken.add(name);
      const fingerprint = g.fingerprint ? { fingerprint: g.fingerprint } : {};
      const note =
        guessedRoles[i] === 'base' && base
          ? {
              note: `Looks like a base model, and ${base.label} is the base: ignored. Choose its role to use it.`,
            }
          : {};
      return [
        g.id,
        { id: g.id, label, paths: g.paths, status: 'opening', role, taskName: name, ...fingerprint, ...note },
      ];
    }),
  );
  const cards = groups.map((g): LoadedCheckpoint => {
    const card = added.get(g.id);
    if (card) return card;
    const label = g.paths[0] ?? '';
    const original = copies.get(g.id) ?? '';
    return {
      id: g.id,
      label,
      paths: g.paths,
      status: 'error',
      role: 'ignore',
      taskName: '',
      duplicateOf: original,
      error: `the same file as ${original} (same size and contents), already added: not added again.`,
    };
  });
  return {
    ...state,
    checkpoints: [...state.checkpoints, ...cards],
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
        const { note: _chosen, ...rest } = c; // the user chose: the note on the guess is moot
        return { ...rest, role, taskName };
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
  // Names become file names: two that differ only in case are one file on macOS and Windows disks
  // (src/merge/task-name.ts's taskNamesProblem, which the CLI applies, compares them the same way).
  const key = (name: string) => name.normalize('NFC').toLowerCase();
  const named = new Map<string, string[]>();
  for (const t of tasks) {
    const name = t.taskName.trim();
    named.set(key(name), [...(named.get(key(name)) ?? []), name]);
  }
  for (const t of tasks) {
    const name = t.taskName.trim();
    const group = named.get(key(name)) ?? [];
    const other = group.find((o) => o !== name);
    if (!name) problems.set(t.id, 'A task needs a name.');
    else if (group.filter((o) => o === name).length > 1)
      problems.set(t.id, `Another task is also named "${name}".`);
    else if (other !== undefined)
      problems.set(
        t.id,
        `"${name}" and "${other}" would be one file on a case-insensitive disk (macOS, Windows).`,
      );
  }
  return problems;
}
