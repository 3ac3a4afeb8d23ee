// Plan: the heatmap's colour scales — the linear domain follows the data (rounded to 5 %), the log
// domain starts at the smallest non-zero value's decade, positions clamp, and legend ticks sit at
// the right places.
import { describe, expect, it } from 'vitest';
import { position, scaleFor, ticks } from './colour';

describe('colour scales', () => {
  it('spans the data’s range on a linear scale, rounded out to 5 %', () => {
    const s = scaleFor('linear', [0.56, 0.73, 0.61]);
    expect([s.lo, s.hi]).toEqual([0.55, 0.75]);
    expect(position(0.55, s)).toBe(0);
    expect(position(0.75, s)).toBeCloseTo(1, 12);
    expect(position(0.9, s)).toBe(1);
    expect(ticks(s).map((t) => t.at)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('starts a log scale at the smallest non-zero decade and puts 0 at the bottom', () => {
    const s = scaleFor('log', [0, 0.003, 0.5]);
    expect([s.lo, s.hi]).toEqual([0.001, 1]);
    expect(position(0, s)).toBe(0);
    expect(position(0.01, s)).toBeCloseTo(1 / 3, 12);
    expect(ticks(s).map((t) => t.value)).toEqual([0.001, 0.01, 0.1, 1]);
  });

  it('falls back to 0–100 % with no finite values', () => {
    expect(scaleFor('linear', [Number.NaN])).toEqual({ kind: 'linear', lo: 0, hi: 1 });
  });
});
