// Plan: the committed docs/pareto.svg is exactly what tools/results/pareto.ts draws from the
// committed docs/results.md (rerun the script after changing the table), and the script reads the
// "Every method" table as the layout tests' fixture has it: the same labels, accuracies, bytes,
// kinds, 8 tasks, the Individual row's bytes as one model's size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digits8 } from '../../src/inference/testing/digits8-points';
import { FIGURE, RESULTS, resultsParetoSvg, resultsPoints } from './pareto';

const md = readFileSync(RESULTS, 'utf8');

describe('docs/pareto.svg', () => {
  it('is what the script draws from docs/results.md', () => {
    expect(readFileSync(FIGURE, 'utf8')).toBe(resultsParetoSvg(md));
  });

  it('reads the "Every method" table as the layout tests do', () => {
    const { points, tasks, modelBytes } = resultsPoints(md);
    expect(points).toEqual(digits8);
    expect([tasks, modelBytes]).toEqual([8, 544_032]);
  });

  it('names a missing column', () => {
    const broken = md.replace('| bytes per task |', '| bytes |');
    expect(() => resultsPoints(broken)).toThrow('the "Every method" table has no "bytes per task" column');
  });
});
