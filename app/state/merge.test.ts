// Plan: the merge slice's pure parts — the engine default follows docs/architecture.md#engine-default
// (CPU without an adapter or on a software one, GPU on a real one, each with its reason), the form
// gives a valid method spec or says why not, and progress turns into throughput and time left.
import { describe, expect, it } from 'vitest';
import { defaultEngine, initialMerge, paramErrors, rates, specOf } from './merge';

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
    expect(specOf({ ...initialMerge, method: 'ties' })).toEqual({
      spec: { method: 'ties', k: 0.2, lambda: 1 },
    });
    expect(specOf({ ...initialMerge, method: 'avg' })).toEqual({ spec: { method: 'avg' } });
  });

  it('says why a parameter is refused', () => {
    expect(specOf({ ...initialMerge, method: 'ties', tiesK: 1.5 })).toEqual({
      error: 'k (the fraction of |τ| kept) must be in (0, 1], got 1.5',
    });
    expect(specOf({ ...initialMerge, method: 'ta', taLambda: Number.NaN })).toMatchObject({
      error: expect.stringContaining('lambda'),
    });
  });

  it('checks the form’s parameters as typed, in the units the form shows', () => {
    expect(paramErrors(initialMerge)).toEqual({});
    expect(paramErrors({ ...initialMerge, method: 'ties' })).toEqual({});
    expect(paramErrors({ ...initialMerge, method: 'ties', tiesK: 1.5 })).toEqual({
      tiesK: 'k must be above 0 % and at most 100 %.',
    });
    expect(paramErrors({ ...initialMerge, method: 'ties', tiesK: 0, tiesLambda: Number.NaN })).toEqual({
      tiesK: 'k must be above 0 % and at most 100 %.',
      tiesLambda: 'Enter a number for λ.',
    });
    expect(paramErrors({ ...initialMerge, method: 'ta', taLambda: -1 })).toEqual({
      taLambda: 'λ must be above 0.',
    });
    // a field of another method is not the chosen method's problem
    expect(paramErrors({ ...initialMerge, method: 'emr', tiesK: 5 })).toEqual({});
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
