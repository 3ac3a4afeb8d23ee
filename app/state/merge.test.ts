// Plan: the merge slice's pure parts — the engine default follows docs/architecture.md#engine-default
// (CPU without an adapter or on a software one, GPU on a real one, each with its reason), the form
// gives a valid method spec or says why not, and progress turns into throughput and time left.
import { describe, expect, it } from 'vitest';
import {
  defaultEngine,
  initialMerge,
  mergeStore,
  paramErrors,
  paramsInvalid,
  rates,
  setParam,
  specOf,
} from './merge';

describe('merge slice', () => {
  it('defaults to the CPU on a software adapter or none, to the GPU on a real one', () => {
    expect(defaultEngine({ status: 'unavailable', reason: 'no navigator.gpu' })).toMatchObject({
      engine: 'cpu',
    });
    const sw = defaultEngine({ status: 'ready', info: { name: 'google swiftshader', isSoftware: true } });
    expect(sw.engine).toBe('cpu');
    expect(sw.reason).toContain('software adapter');
    expect(
      defaultEngine({ status: 'ready', info: { name: 'nvidia ampere', isSoftware: false } }),
    ).toMatchObject({
      engine: 'gpu',
    });
  });

  it('builds the method spec from the form, with the papers’ defaults', () => {
    expect(specOf(initialMerge)).toEqual({ spec: { method: 'emr', rescale: 'tensor-mean' } });
    expect(specOf({ ...initialMerge, method: 'ta' })).toEqual({ spec: { method: 'ta', lambda: 0.3 } });
    expect(specOf({ ...initialMerge, method: 'ties_paper' })).toEqual({
      spec: { method: 'ties', k: 0.2, lambda: 1 },
    });
    expect(specOf({ ...initialMerge, method: 'avg' })).toEqual({ spec: { method: 'avg' } });
    // every other method of the table, by the CLI's parser
    expect(specOf({ ...initialMerge, method: 'ties' })).toMatchObject({
      spec: { method: 'mergekit', name: 'ties' },
    });
    expect(
      specOf({ ...initialMerge, method: 'tall_mask', params: { tall_mask: { lambda: '0.3, 0.5' } } }),
    ).toEqual({
      spec: { method: 'tall_mask', tallBase: 'task_arithmetic', lambda: [0.3, 0.5] },
    });
  });

  it('keeps what was typed per method, and sets a parameter of the chosen one', () => {
    mergeStore.setState({ ...initialMerge, method: 'ta' }, true);
    setParam('lambda', 0.7);
    mergeStore.setState({ method: 'dare_ties' });
    setParam('density', 0.4);
    expect(mergeStore.getState().params).toEqual({ ta: { lambda: 0.7 }, dare_ties: { density: 0.4 } });
    mergeStore.setState({ method: 'ta' });
    expect(specOf(mergeStore.getState())).toEqual({ spec: { method: 'ta', lambda: 0.7 } });
  });

  it('says why a parameter is refused', () => {
    expect(specOf({ ...initialMerge, method: 'ties_paper', params: { ties_paper: { k: 1.5 } } })).toEqual({
      error: 'k (the fraction of |τ| kept) must be in (0, 1], got 1.5',
    });
    expect(specOf({ ...initialMerge, method: 'ta', params: { ta: { lambda: Number.NaN } } })).toMatchObject({
      error: expect.stringContaining('lambda'),
    });
  });

  it('checks the form’s parameters as typed, in the units the form shows', () => {
    const ties = (v: Record<string, number>) => ({
      ...initialMerge,
      method: 'ties_paper' as const,
      params: { ties_paper: v },
    });
    expect(paramErrors(initialMerge)).toEqual({ params: {} });
    expect(paramErrors(ties({}))).toEqual({ params: {} });
    expect(paramErrors(ties({ k: 1.5 }))).toEqual({
      params: { k: 'k must be above 0 % and at most 100 %.' },
    });
    expect(paramErrors(ties({ k: 0, lambda: Number.NaN }))).toEqual({
      params: { k: 'k must be above 0 % and at most 100 %.', lambda: 'Enter a number for λ.' },
    });
    expect(paramErrors({ ...initialMerge, method: 'ta', params: { ta: { lambda: -1 } } })).toEqual({
      params: { lambda: 'λ must be above 0.' },
    });
    // a field of another method is not the chosen method's problem
    expect(paramsInvalid({ ...initialMerge, method: 'emr', params: { ties_paper: { k: 5 } } })).toBe(false);
    // what only the parameters together get wrong holds Merge too
    const della = { ...initialMerge, method: 'della' as const, params: { della: { density: 0.9 } } };
    expect(paramErrors(della).method).toContain('density ± epsilon');
    expect(paramsInvalid(della)).toBe(true);
  });

  it('computes throughput and time left', () => {
    const p = {
      phase: 'merge' as const,
      bytesDone: 100,
      bytesTotal: 300,
      tensorsDone: 1,
      tensorsTotal: 3,
      elapsed: 2,
    };
    expect(rates(p)).toEqual({ bytesPerSecond: 50, secondsLeft: 4 });
    expect(rates({ ...p, bytesDone: 0, elapsed: 0 }).secondsLeft).toBeUndefined();
  });
});
