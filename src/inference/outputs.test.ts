// Plan: softmax, top-k, the probabilities heuristic and disagreement on hand-computed rows,
// including the edges (huge logits, ties, k past the row, already a distribution).
import { describe, expect, it } from 'vitest';
import { disagrees, isProbabilities, probabilities, softmax, top1, topK } from './outputs';

describe('softmax', () => {
  it('matches e^x / Σ e^x by hand: [0, ln 2, ln 5] → [1/8, 2/8, 5/8]', () => {
    const p = softmax([0, Math.log(2), Math.log(5)]);
    expect(p[0]).toBeCloseTo(1 / 8, 14);
    expect(p[1]).toBeCloseTo(2 / 8, 14);
    expect(p[2]).toBeCloseTo(5 / 8, 14);
  });
  it('does not overflow or underflow for huge logits of either sign', () => {
    expect([...softmax([1e6, 1e6])]).toEqual([0.5, 0.5]);
    // −1e6 + ln 3 is exact to about 1e−10 in f64: the ratio 1 : 3 survives to that precision.
    const p = softmax([-1e6, -1e6 + Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 8);
    expect(p[1]).toBeCloseTo(0.75, 8);
    expect(softmax([800, 0])[1]).toBeCloseTo(0, 300);
  });
  it('computes in f64 from float32 rows', () => {
    expect(softmax(Float32Array.from([0, 0, 0, 0]))).toBeInstanceOf(Float64Array);
    expect(softmax(Float32Array.from([0, 0, 0, 0]))[3]).toBe(0.25);
  });
});

describe('isProbabilities', () => {
  it('is true only for non-negative rows summing to 1', () => {
    expect(isProbabilities([0.2, 0.3, 0.5])).toBe(true);
    expect(isProbabilities(Float32Array.from([0.1, 0.2, 0.7]))).toBe(true); // float32 rounding
    expect(isProbabilities([0.5, 0.6])).toBe(false);
    expect(isProbabilities([1.5, -0.5])).toBe(false);
    expect(isProbabilities([Number.NaN, 1])).toBe(false);
    expect(isProbabilities([])).toBe(false);
  });
  it('keeps a distribution as it is, and softmaxes logits', () => {
    expect([...probabilities([0.25, 0.75])]).toEqual([0.25, 0.75]);
    expect(probabilities([0, 0])[0]).toBe(0.5);
  });
});

describe('topK', () => {
  it('gives index, name, probability and the raw value, most probable first', () => {
    const top = topK([Math.log(2), 0, Math.log(5)], 2, ['cat', 'dog', 'eel']);
    expect(top.map(({ index, name, value }) => ({ index, name, value }))).toEqual([
      { index: 2, name: 'eel', value: Math.log(5) },
      { index: 0, name: 'cat', value: Math.log(2) },
    ]);
    expect(top[0]?.probability).toBeCloseTo(5 / 8, 14);
    expect(top[1]?.probability).toBeCloseTo(2 / 8, 14);
  });
  it('names unknown classes by index, keeps the lower index on ties, stops at the row’s length', () => {
    expect(topK([1, 3, 3], 5).map((c) => c.name)).toEqual(['class 1', 'class 2', 'class 0']);
    expect(topK([1, 3], 5, ['a'])[1]?.name).toBe('a');
    expect(topK([1, 3], 0)).toEqual([]);
  });
});

describe('top1 and disagrees', () => {
  it('takes the first maximum, as torch.argmax does', () => {
    expect(top1([0, 4, 4, 1])).toBe(1);
    expect(top1([-3])).toBe(0);
  });
  it('compares top classes only', () => {
    expect(disagrees([0.1, 0.9], [0, 5])).toBe(false);
    expect(disagrees([2, 1, 0], [0, 1, 2])).toBe(true);
    expect(disagrees([1, 1], [1, 0])).toBe(false); // both pick class 0 on the tie
  });
});
