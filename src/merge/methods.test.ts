import { describe, expect, it } from 'vitest';
import { anyMethodSpec, taskCountProblem } from './methods';

describe('taskCountProblem: what a method needs besides the base, before Merge', () => {
  it('EMR and the baselines need two tasks', () => {
    const emr = anyMethodSpec('emr', {});
    expect(taskCountProblem(emr, 1)).toBe('This method needs at least two tasks; one is loaded.');
    expect(taskCountProblem(emr, 2)).toBeUndefined();
  });
  it('slerp takes exactly one model, nuslerp exactly two, multislerp one or more (the merge’s own words)', () => {
    const slerp = anyMethodSpec('slerp', { t: 0.5 });
    expect(taskCountProblem(slerp, 1)).toBeUndefined();
    expect(taskCountProblem(slerp, 3)).toMatch(/exactly one other; the set has 3 other models/);
    expect(taskCountProblem(slerp, 0)).toBe('Add a model besides the base.');
    const nuslerp = anyMethodSpec('nuslerp', {});
    expect(taskCountProblem(nuslerp, 1)).toMatch(/needs at least two tasks/);
    expect(taskCountProblem(nuslerp, 3)).toMatch(/exactly two models/);
    expect(taskCountProblem(anyMethodSpec('multislerp', {}), 1)).toBeUndefined();
  });
});
