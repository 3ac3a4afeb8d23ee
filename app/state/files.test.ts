// Plan: the files slice's transitions — adding files guesses roles and names (or takes the
// demo's hints), an opened bundle takes the bundle role, a refused file is set aside, one base at
// a time, and the selection holds only ready files with trimmed names; bad names are reported.
import { describe, expect, it } from 'vitest';
import type { CheckpointSummary } from '../worker/protocol';
import {
  duplicatesOf,
  initialFiles,
  selectionOf,
  taskNameProblems,
  withAdded,
  withOpened,
  withRole,
  withTaskName,
  type FilesState,
} from './files';

const summary = (isBundle = false): CheckpointSummary => ({
  format: 'safetensors',
  files: ['x'],
  tensorCount: 1,
  parameters: 1,
  dtypes: { F32: 1 },
  bytes: 8,
  isBundle,
});
const add = (state: FilesState, ...paths: string[]) =>
  withAdded(
    state,
    paths.map((p, i) => ({ id: `id${state.checkpoints.length + i}`, paths: [p] })),
  );
const ready = (state: FilesState) =>
  state.checkpoints.reduce((s, c) => withOpened(s, c.id, { ok: true, summary: summary() }), state);

describe('files slice', () => {
  it('guesses the base and the task names when files are added', () => {
    const s = add(initialFiles, 'vit-base.safetensors', 'vit-mnist.safetensors', 'vit-svhn.safetensors');
    expect(s.checkpoints.map((c) => [c.role, c.taskName, c.status])).toEqual([
      ['base', '', 'opening'],
      ['task', 'mnist', 'opening'],
      ['task', 'svhn', 'opening'],
    ]);
  });

  it('follows the demo manifest’s hints over the guesses', () => {
    const s = withAdded(
      initialFiles,
      [
        { id: 'a', paths: ['plain.safetensors'] },
        { id: 'b', paths: ['pt.safetensors'] },
        { id: 'c', paths: ['rot.safetensors'] },
      ],
      [],
      { baseLabel: 'pt.safetensors', taskNames: new Map([['rot.safetensors', 'rotated']]) },
    );
    expect(s.checkpoints.map((c) => c.role)).toEqual(['task', 'base', 'task']);
    expect(s.checkpoints[2]?.taskName).toBe('rotated');
  });

  it('never makes a second base a task silently, and keeps names unique across additions', () => {
    let s = add(initialFiles, 'base.safetensors', 'mnist.safetensors');
    s = add(s, 'pretrained.safetensors', 'mnist.safetensors');
    expect(s.checkpoints.map((c) => c.role)).toEqual(['base', 'task', 'ignore', 'task']);
    expect(s.checkpoints.map((c) => c.taskName)).toEqual(['', 'mnist', '', 'mnist-2']);
    expect(s.checkpoints[2]?.note).toBe(
      'Looks like a base model, and base.safetensors is the base: ignored. Choose its role to use it.',
    );
    s = withRole(ready(s), 'id2', 'task');
    expect(s.checkpoints[2]).toMatchObject({ role: 'task', taskName: 'pretrained' });
    expect(s.checkpoints[2]?.note).toBeUndefined();
  });

  it('refuses a file added again (same fingerprint), naming the file it copies, and never opens it', () => {
    const fp = (id: string, path: string, fingerprint: string) => ({ id, paths: [path], fingerprint });
    let s = withAdded(initialFiles, [
      fp('b', 'zoo/base.safetensors', 'B'),
      fp('t', 'zoo/plain.safetensors', 'P'),
    ]);
    s = withAdded(s, [
      fp('b2', 'copy/base.safetensors', 'B'),
      fp('n', 'copy/new.safetensors', 'N'),
      fp('n2', 'copy/new-again.safetensors', 'N'),
    ]);
    expect(s.checkpoints.map((c) => [c.label, c.role, c.status, c.taskName])).toEqual([
      ['zoo/base.safetensors', 'base', 'opening', ''],
      ['zoo/plain.safetensors', 'task', 'opening', 'plain'],
      ['copy/base.safetensors', 'ignore', 'error', ''],
      ['copy/new.safetensors', 'task', 'opening', 'new'],
      ['copy/new-again.safetensors', 'ignore', 'error', ''],
    ]);
    expect(s.checkpoints[2]).toMatchObject({
      duplicateOf: 'zoo/base.safetensors',
      error:
        'the same file as zoo/base.safetensors (same size and contents), already added: not added again.',
    });
    expect(s.checkpoints[4]?.duplicateOf).toBe('copy/new.safetensors');
    expect(duplicatesOf(s, [fp('x', 'x.safetensors', 'P')])).toEqual(
      new Map([['x', 'zoo/plain.safetensors']]),
    );
  });

  it('marks a refused file as ignored with its message, and a bundle as a bundle', () => {
    let s = add(initialFiles, 'base.safetensors', 'broken.safetensors', 'emr-bundle.safetensors');
    s = withOpened(s, 'id1', { ok: false, message: 'broken.safetensors: header is not valid JSON' });
    s = withOpened(s, 'id2', { ok: true, summary: summary(true) });
    expect(s.checkpoints[1]).toMatchObject({
      status: 'error',
      role: 'ignore',
      error: 'broken.safetensors: header is not valid JSON',
    });
    expect(s.checkpoints[2]).toMatchObject({ status: 'ready', role: 'bundle' });
  });

  it('keeps one base: choosing another demotes the old one to a named task', () => {
    let s = ready(add(initialFiles, 'base.safetensors', 'a.safetensors', 'b.safetensors'));
    s = withRole(s, 'id1', 'base');
    expect(s.checkpoints.map((c) => c.role)).toEqual(['task', 'base', 'task']);
    expect(s.checkpoints[0]?.taskName).toBe('base');
    expect(selectionOf(s)).toEqual({
      baseId: 'id1',
      tasks: [
        { id: 'id0', name: 'base' },
        { id: 'id2', name: 'b' },
      ],
    });
  });

  it('selects only ready files, trims names, and reports empty or repeated ones', () => {
    let s = add(initialFiles, 'base.safetensors', 'a.safetensors', 'b.safetensors', 'c.safetensors');
    expect(selectionOf(s)).toBeUndefined(); // nothing is ready yet
    s = ready(s);
    s = withTaskName(s, 'id1', ' same ');
    s = withTaskName(s, 'id2', 'same');
    s = withTaskName(s, 'id3', '  ');
    expect(selectionOf(s)?.tasks.map((t) => t.name)).toEqual(['same', 'same', '']);
    expect(Object.fromEntries(taskNameProblems(s))).toEqual({
      id1: 'Another task is also named "same".',
      id2: 'Another task is also named "same".',
      id3: 'A task needs a name.',
    });
  });

  it('reports names that differ only in case: one file on a macOS or Windows disk', () => {
    let s = ready(add(initialFiles, 'base.safetensors', 'a.safetensors', 'b.safetensors', 'c.safetensors'));
    s = withTaskName(s, 'id1', 'SST2');
    s = withTaskName(s, 'id2', 'sst2');
    s = withTaskName(s, 'id3', 'mnli');
    expect(Object.fromEntries(taskNameProblems(s))).toEqual({
      id1: '"SST2" and "sst2" would be one file on a case-insensitive disk (macOS, Windows).',
      id2: '"sst2" and "SST2" would be one file on a case-insensitive disk (macOS, Windows).',
    });
  });
});
