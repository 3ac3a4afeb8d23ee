// Plan: "Fit" shows the whole grid in the pane at its size — large tensors scaled down, small ones
// scaled up to fill it (no cap at a few pixels per cell).
import { describe, expect, it } from 'vitest';
import { fitZoom } from './MaskViewer';

describe('fitZoom', () => {
  const pane = { width: 440, height: 338 };
  it('scales a small tensor up to the pane', () => {
    expect(fitZoom(1, 4, pane)).toBe(110);
    expect(fitZoom(17, 64, pane) * 64).toBe(440);
  });
  it('scales a large one down to fit both sides', () => {
    expect(fitZoom(3072, 768, pane) * 3072).toBeCloseTo(338);
  });
});
