// Plan: one result per method (a new one replaces its method's, ties_paper and mergekit's ties
// apart); past the budget the oldest are spilled to disk when scratch storage is there, else let go,
// never the newest nor the one just switched to, and never one that holds nothing in memory; one
// on disk counts nothing. The bytes each holds follow its kind (EMR's values unless spilled, a
// per-task artefact, else 4 bytes per shared parameter). The page mirrors the worker's choice:
// marks what is on disk, and names what the budget let go and why it was not spilled.
import { beforeEach, describe, expect, it } from 'vitest';
import { methodSpec, anyMethodSpec } from '../../src/merge/methods';
import type { MergeSummary } from '../../src/flow/summary';
import { keepResult } from '../state/kept';
import { initialMerge, mergeStore } from '../state/merge';
import { keepWithin, keptBytes, overBudget } from './kept-results';

let nextId = 1;
function summary(spec: MergeSummary['spec'], over: Partial<MergeSummary> = {}): MergeSummary {
  return {
    id: nextId++,
    spec,
    engine: 'cpu',
    seconds: 0,
    bytesRead: 0,
    source: 'merge',
    tasks: [],
    tensors: [{ name: 'w', shape: [10], numel: 10, conflictRate: 0, density: [] }],
    storage: { taskModelsBytes: 0, baseBytes: 0, bundleBytes: 0 },
    ...over,
  };
}
const held = (s: MergeSummary, onDisk = false) => ({ summary: s, onDisk });

describe('kept results', () => {
  beforeEach(() => mergeStore.setState(initialMerge, true));

  it('counts what each result holds in memory', () => {
    expect(keptBytes(summary(methodSpec('ta')))).toBe(40);
    const emr = summary(methodSpec('emr'), { values: { location: 'memory', bytes: 123 } });
    expect(keptBytes(emr)).toBe(123);
    expect(keptBytes({ ...emr, values: { location: 'spill', bytes: 123 } })).toBe(0);
    const tall = summary(anyMethodSpec('tall_mask', {}), {
      storage: { taskModelsBytes: 0, baseBytes: 0, bundleBytes: 77 },
    });
    expect(keptBytes(tall)).toBe(77);
  });

  it('keeps one per method, the paper’s TIES apart from mergekit’s', () => {
    const ta = held(summary(methodSpec('ta')));
    const paper = held(summary(methodSpec('ties')));
    const mk = held(summary(anyMethodSpec('ties', { density: 0.5 })));
    let kept = keepWithin([], ta, 1e9).keep;
    kept = keepWithin(kept, paper, 1e9).keep;
    kept = keepWithin(kept, mk, 1e9).keep;
    expect(kept).toEqual([ta, paper, mk]);
    const ta2 = held(summary(methodSpec('ta', { lambda: 0.5 })));
    expect(keepWithin(kept, ta2, 1e9)).toEqual({ keep: [paper, mk, ta2], drop: [ta], spill: [] });
    // the same method's result is replaced, on disk or not, spill storage or not
    const onDisk = held(summary(methodSpec('ta')), true);
    expect(keepWithin([onDisk, paper], ta2, 1e9, true)).toEqual({
      keep: [paper, ta2],
      drop: [onDisk],
      spill: [],
    });
  });

  it('lets the oldest go past the budget, never the newest', () => {
    const a = held(summary(methodSpec('avg'))); // 40 bytes each
    const b = held(summary(methodSpec('ta')));
    const c = held(summary(methodSpec('ties')));
    expect(keepWithin([a, b], c, 80)).toEqual({ keep: [b, c], drop: [a], spill: [] });
    expect(keepWithin([a, b], c, 10)).toEqual({ keep: [c], drop: [a, b], spill: [] });
  });

  it('spills the oldest past the budget instead, when there is scratch storage', () => {
    const a = held(summary(methodSpec('avg'))); // 40 bytes each
    const b = held(summary(methodSpec('ta')));
    const c = held(summary(methodSpec('ties')));
    expect(keepWithin([a, b], c, 80, true)).toEqual({ keep: [a, b, c], drop: [], spill: [a] });
    expect(keepWithin([a, b], c, 10, true)).toEqual({ keep: [a, b, c], drop: [], spill: [a, b] });
    expect(keepWithin([a, b], c, 120, true)).toEqual({ keep: [a, b, c], drop: [], spill: [] });
    // one already on disk holds nothing: the budget counts b and c only, and a is not spilled again
    const aOnDisk = { ...a, onDisk: true };
    expect(keepWithin([aOnDisk, b], c, 80, true)).toEqual({ keep: [aOnDisk, b, c], drop: [], spill: [] });
    expect(keepWithin([aOnDisk, b], c, 79, true)).toEqual({ keep: [aOnDisk, b, c], drop: [], spill: [b] });
  });

  it('never moves out the result switched to, nor one that holds nothing', () => {
    const a = held(summary(methodSpec('avg'))); // 40 bytes
    const emrSpilled = held(summary(methodSpec('emr'), { values: { location: 'spill', bytes: 999 } }));
    const b = held(summary(methodSpec('ta')));
    const c = held(summary(methodSpec('ties')));
    // a read back from disk (the oldest) stays; the next oldest in memory goes in its place
    expect(overBudget([a, emrSpilled, b, c], a, 80)).toEqual([b]);
    expect(overBudget([a, emrSpilled, b, c], a, 0)).toEqual([b, c]);
    expect(overBudget([a, emrSpilled, b, c], c, 1e9)).toEqual([]);
    // the budget is passed by the pinned result alone: all others go, it stays
    expect(overBudget([a, c], c, 10)).toEqual([a]);
  });

  it('mirrors the worker in the page and says what the budget let go', () => {
    const a = summary(methodSpec('avg'));
    const b = summary(methodSpec('ta'));
    keepResult(a, 'A');
    keepResult(b, 'B');
    expect(mergeStore.getState().kept.map((k) => k.summary)).toEqual([a, b]);
    expect(mergeStore.getState().notice).toBeUndefined();
    const b2 = summary(methodSpec('ta', { lambda: 0.7 }));
    const c = summary(methodSpec('emr'));
    keepResult(b2, 'B2', { dropped: [b.id] }); // the same method's: replaced, no word about the budget
    expect(mergeStore.getState().notice).toBeUndefined();
    keepResult(c, 'C', { dropped: [a.id] });
    const s = mergeStore.getState();
    expect(s.kept.map((k) => k.summary)).toEqual([b2, c]);
    expect(s.result).toBe(c);
    expect(s.resultInputs).toBe('C');
    expect(s.notice).toEqual({
      kind: 'dropped',
      message: expect.stringContaining('memory budget (the oldest first): Weight averaging.'),
    });
  });

  it('marks what the worker spilled, and says why one was let go instead', () => {
    const a = summary(methodSpec('avg'));
    const b = summary(methodSpec('ta'));
    const c = summary(methodSpec('ties'));
    keepResult(a, 'A');
    keepResult(b, 'B', { onDisk: [a.id] });
    expect(mergeStore.getState().kept).toEqual([
      { summary: a, inputs: 'A', onDisk: true },
      { summary: b, inputs: 'B' },
    ]);
    expect(mergeStore.getState().notice).toBeUndefined();
    keepResult(c, 'C', { onDisk: [a.id], dropped: [b.id], spillProblem: 'the disk is full' });
    const s = mergeStore.getState();
    expect(s.kept.map((k) => [k.summary, k.onDisk])).toEqual([
      [a, true],
      [c, undefined],
    ]);
    expect(s.notice?.message).toMatch(
      /oldest first\): Task Arithmetic.* — not kept on disk: the disk is full\./,
    );
  });
});
