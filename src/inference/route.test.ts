// Plan: the routing rule on hand-computed rows — a one-hot row is certain, a uniform row of any
// width scores 0, normalization puts 2- and 10-class heads on one scale, ties go to the lower task.
import { describe, expect, it } from 'vitest';
import { disagrees, isProbabilities, softmax, topK } from './outputs';
import { confidence, routeSample, routedAccuracy } from './route';

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

describe('routedAccuracy', () => {
  // Two tasks: task 0 has 2 classes, task 1 has 3. Rows are [task 0's row, task 1's row].
  const sharp2 = [9, 0]; // class 0, confident
  const flat2 = [0, 0]; // confidence 0
  const sharp3 = [0, 0, 9]; // class 2, confident
  const flat3 = [0, 0, 0];
  it('counts routing to the true task and, of those, top-1 equal to the label, per task and over all', () => {
    const result = routedAccuracy(
      [
        { task: 0, label: 0, logits: [sharp2, flat3] }, // routed to 0, right
        { task: 0, label: 1, logits: [sharp2, flat3] }, // routed to 0, wrong label
        { task: 0, label: 0n, logits: [flat2, sharp3] }, // routed to 1: wrong task
        { task: 1, label: 2, logits: [flat2, sharp3] }, // routed to 1, right
      ],
      2,
    );
    expect(result.samples).toBe(4);
    expect(result.routing).toBe(3 / 4);
    expect(result.accuracy).toBe(2 / 4);
    expect(result.perTask).toEqual([
      { samples: 3, routing: 2 / 3, accuracy: 1 / 3 },
      { samples: 1, routing: 1, accuracy: 1 },
    ]);
    expect(result.picks).toEqual([
      [2, 1],
      [0, 1],
    ]);
  });
  it('scores a task without inputs 0, and refuses rows that do not fit', () => {
    const empty = routedAccuracy([], 2);
    expect(empty).toMatchObject({ samples: 0, routing: 0, accuracy: 0 });
    expect(empty.perTask[1]).toEqual({ samples: 0, routing: 0, accuracy: 0 });
    expect(() => routedAccuracy([{ task: 2, label: 0, logits: [sharp2, sharp3] }], 2)).toThrow(
      'a sample of task 2; there are 2 tasks',
    );
    expect(() => routedAccuracy([{ task: 0, label: 0, logits: [sharp2] }], 2)).toThrow(
      '1 output rows for 2 tasks',
    );
  });
  it('never picks a task whose row is NaN', () => {
    expect(routeSample([[Number.NaN, 0], flat2]).task).toBe(1);
  });
});
