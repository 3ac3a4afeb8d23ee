// Plan: the routing rule on hand-computed rows — a one-hot row is certain, a uniform row of any
// width scores 0, normalization puts 2- and 10-class heads on one scale, ties go to the lower task.
import { describe, expect, it } from 'vitest';
import { disagrees, isProbabilities, softmax, topK } from './outputs';
import { confidence, routeSample } from './route';

describe('outputs', () => {
  it('softmax is stable and sums to 1', () => {
    const p = softmax([1000, 1000 + Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });
  it('top-k names classes, most probable first, lower index on ties', () => {
    expect(topK([0, 2, 2, -1], 3, ['a', 'b', 'c']).map((c) => [c.index, c.name])).toEqual([
      [1, 'b'],
      [2, 'c'],
      [0, 'a'],
    ]);
    expect(topK([0.1, 0.9], 1)[0]).toMatchObject({ index: 1, name: 'class 1', probability: 0.9 });
    expect(isProbabilities([0.1, 0.9])).toBe(true);
    expect(isProbabilities([2, -1])).toBe(false);
    expect(disagrees([1, 0], [0, 1])).toBe(true);
    expect(disagrees([1, 0], [5, 0])).toBe(false);
  });
});

describe('routing', () => {
  it('confidence is 1 − H/log K: 0 for a uniform row of any width, near 1 for a peaked one', () => {
    expect(confidence([0, 0])).toBeCloseTo(0, 12);
    expect(confidence(new Array(10).fill(3))).toBeCloseTo(0, 12);
    expect(confidence([50, 0, 0])).toBeCloseTo(1, 12);
    // p = (0.75, 0.25): H = −(0.75 ln 0.75 + 0.25 ln 0.25) = 0.562335…, / ln 2 = 0.811278…
    expect(confidence([Math.log(3), 0])).toBeCloseTo(1 - 0.8112781244591328, 12);
  });
  it('picks the most confident task, with the runner-up, lower index on ties', () => {
    const choice = routeSample([
      [0, 0],
      [9, 0, 0, 0],
      [0, 0, 0],
    ]);
    expect(choice.task).toBe(1);
    expect(choice.runnerUp?.task).toBe(0); // 0 and 2 both score 0: the lower index
    expect(choice.scores).toHaveLength(3);
    expect(
      routeSample([
        [1, 0],
        [1, 0],
      ]).task,
    ).toBe(0);
    expect(routeSample([[1, 0]]).runnerUp).toBeNull();
  });
});
