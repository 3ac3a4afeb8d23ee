// Plan: one result per method (a new one replaces its method's, ties_paper and mergekit's ties
// apart); past the budget the oldest go, never the newest; the bytes each holds follow its kind
// (EMR's values unless spilled, a per-task artefact, else 4 bytes per shared parameter). The page
// mirrors the worker's choice and names what the budget let go.
import { beforeEach, describe, expect, it } from 'vitest';
import { methodSpec, anyMethodSpec } from '../../src/merge/methods';
import type { MergeSummary } from '../../src/flow/summary';
import { keepResult } from '../state/kept';
import { initialMerge, mergeStore } from '../state/merge';
import { keepWithin, keptBytes } from './kept-results';

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
const held = (s: MergeSummary) => ({ summary: s });

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
    expect(keepWithin(kept, ta2, 1e9)).toEqual({ keep: [paper, mk, ta2], drop: [ta] });
  });

  it('lets the oldest go past the budget, never the newest', () => {
    const a = held(summary(methodSpec('avg'))); // 40 bytes each
    const b = held(summary(methodSpec('ta')));
    const c = held(summary(methodSpec('ties')));
    expect(keepWithin([a, b], c, 80)).toEqual({ keep: [b, c], drop: [a] });
    expect(keepWithin([a, b], c, 10)).toEqual({ keep: [c], drop: [a, b] });
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
    keepResult(b2, 'B2', [b.id]); // the same method's: replaced, no word about the budget
    expect(mergeStore.getState().notice).toBeUndefined();
    keepResult(c, 'C', [a.id]);
    const s = mergeStore.getState();
    expect(s.kept.map((k) => k.summary)).toEqual([b2, c]);
    expect(s.result).toBe(c);
    expect(s.resultInputs).toBe('C');
    expect(s.notice).toEqual({
      kind: 'dropped',
      message: expect.stringContaining('memory budget (the oldest first): Weight averaging.'),
    });
  });
});
