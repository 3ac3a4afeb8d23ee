// Plan: log-spaced magnitude bins — edges, where values land, zeros counted apart.
import { describe, expect, it } from 'vitest';
import { addToHistogram, binEdges, logBins, maxAbs } from './histogram';

describe('log histograms', () => {
  it('spans six decades under the largest magnitude', () => {
    const bins = logBins(1, 6);
    expect(binEdges(bins)).toEqual([-6, -5, -4, -3, -2, -1, 0]);
  });

  it('bins by magnitude, clamps the ends and counts zeros apart', () => {
    const bins = logBins(1, 6);
    const counts = new Array<number>(6).fill(0);
    const zeros = addToHistogram([0, -0.5, 0.5, 1, 1e-9, -2e-4, 0], bins, counts);
    expect(zeros).toBe(2);
    expect(counts).toEqual([1, 0, 1, 0, 0, 3]);
  });

  it('finds the largest magnitude', () => expect(maxAbs([1, -3, 2])).toBe(3));
});
