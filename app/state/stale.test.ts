// Plan: a result records what it was made from; a change of files, task names or method marks
// it out of date (undoing the change clears the mark), a bundle ignores the method form; an
// evaluation is out of date when the merge is, or its graphs / labeled sets changed; the time
// estimate follows the measured rate.
import { describe, expect, it } from 'vitest';
import type { CheckpointSummary, InferenceSetup, MergeSummary } from '../worker/protocol';
import { initialFiles, withAdded, withOpened, withRemoved, withTaskName, type FilesState } from './files';
import { secondsLeft } from './infer';
import { initialMerge, type MergeState } from './merge';
import { evalInputs, evalStaleness, mergeInputs, mergeStale } from './stale';

const summary = {
  format: 'safetensors',
  files: [],
  tensorCount: 1,
  parameters: 1,
  dtypes: {},
  bytes: 1,
  isBundle: false,
} as CheckpointSummary;
const files = (): FilesState => {
  const s = withAdded(initialFiles, [
    { id: 'b', paths: ['base.safetensors'] },
    { id: 'x', paths: ['x.safetensors'] },
    { id: 'y', paths: ['y.safetensors'] },
  ]);
  return ['b', 'x', 'y'].reduce((a, id) => withOpened(a, id, { ok: true, summary }), s);
};
const merged = (f: FilesState, source: 'merge' | 'bundle' = 'merge'): MergeState => ({
  ...initialMerge,
  result: { id: 1, source } as MergeSummary,
  resultInputs: mergeInputs(f, initialMerge, source),
});

describe('stale results', () => {
  it('marks a merge out of date when a name, a file or the method changes, and not after an undo', () => {
    const f = files();
    const m = merged(f);
    expect(mergeStale(f, m)).toBe(false);
    expect(mergeStale(withTaskName(f, 'x', 'x2'), m)).toBe(true);
    expect(mergeStale(withTaskName(withTaskName(f, 'x', 'x2'), 'x', 'x'), m)).toBe(false);
    expect(mergeStale(withRemoved(f, 'y'), m)).toBe(true);
    expect(mergeStale(initialFiles, m)).toBe(true);
    expect(mergeStale(f, { ...m, method: 'ta' })).toBe(true);
    // A restored bundle carries its own method: the form does not make it stale.
    expect(mergeStale(f, { ...merged(f, 'bundle'), method: 'ta' })).toBe(false);
  });

  it('marks an evaluation out of date with its merge, or when a set or graph changed', () => {
    const setup = (file: string) =>
      ({
        tasks: [{ name: 'x', graph: { file: 'x.onnx' }, labeled: { file, count: 3 } }],
      }) as unknown as InferenceSetup;
    const result = { id: 4 } as MergeSummary;
    const recorded = evalInputs(result, setup('x.safetensors'));
    const report = { tasks: ['x'], rows: [], providers: [] };
    expect(evalStaleness(report, recorded, { merge: false, inputs: recorded })).toBeUndefined();
    expect(evalStaleness(report, recorded, { merge: true, inputs: recorded })).toBe('merge again');
    const other = evalInputs(result, setup('mine.safetensors'));
    expect(evalStaleness(report, recorded, { merge: false, inputs: other })).toBe('evaluate again');
    expect(evalStaleness(undefined, recorded, { merge: true, inputs: other })).toBeUndefined();
  });

  it('estimates the time left from the runs so far', () => {
    expect(secondsLeft(undefined, 0, 1000)).toBeUndefined();
    expect(secondsLeft({ done: 0, total: 10 }, 0, 1000)).toBeUndefined();
    expect(secondsLeft({ done: 25, total: 100 }, 1000, 11_000)).toBe(30); // 10 s for a quarter
  });
});
