// Plan: the files slice's transitions — adding files guesses roles and names (or takes the
// demo's hints), an opened bundle takes the bundle role, a refused file is set aside, one base at
// a time, and the selection holds only ready files with trimmed names; bad names are reported.
import { describe, expect, it } from 'vitest';
import type { CheckpointSummary } from '../worker/protocol';
import {
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

  it('does not guess a second base, and keeps names unique across additions', () => {
    let s = add(initialFiles, 'base.safetensors', 'mnist.safetensors');
    s = add(s, 'pretrained.safetensors', 'mnist.safetensors');
    expect(s.checkpoints.map((c) => c.role)).toEqual(['base', 'task', 'task', 'task']);
    expect(s.checkpoints.map((c) => c.taskName)).toEqual(['', 'mnist', 'pretrained', 'mnist-2']);
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
});
