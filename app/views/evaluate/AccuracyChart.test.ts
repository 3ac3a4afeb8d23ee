// Plan: the accuracy chart's method labels break into short lines (at the parameters' parenthesis
// and at spaces), so long method names never overlap their neighbours on the x axis.
import { describe, expect, it } from 'vitest';
import { labelLines } from './AccuracyChart';

describe('labelLines', () => {
  it('puts the parameters on their own line and wraps long words at spaces', () => {
    expect(labelLines('TIES-Merging (k = 20 %, λ = 1)')).toEqual(['TIES-Merging', '(k = 20 %, λ = 1)']);
    expect(labelLines('EMR-Merging (rescale: tensor-mean)')).toEqual([
      'EMR-Merging',
      '(rescale:',
      'tensor-mean)',
    ]);
    expect(labelLines('Individual')).toEqual(['Individual']);
    expect(labelLines('Weight averaging')).toEqual(['Weight averaging']);
    for (const line of labelLines('EMR-Merging, routed (no task id given to the model)'))
      expect(line.length).toBeLessThanOrEqual(18);
  });
});
