// Plan: the runtime's pure parts — dispatch shapes over the per-dimension limit, tile sizes (whole
// units within one binding and TILE_BYTES; 32-element steps under tiny forced limits), tile ranges
// and stitching at each tile's first element.
import { describe, expect, it } from 'vitest';
import { dispatchShape } from './dispatch';
import { addCounts, stitch, TILE_BYTES, tileElements, tileRanges } from './tiles';

describe('dispatchShape', () => {
  it('lays workgroups over x, then rows of y, and refuses more than a square', () => {
    expect(dispatchShape(5, 65535)).toEqual([5, 1]);
    expect(dispatchShape(8, 3)).toEqual([3, 3]);
    expect(dispatchShape(9, 3)).toEqual([3, 3]);
    expect(() => dispatchShape(10, 3)).toThrow(RangeError);
  });
});

describe('tiles', () => {
  it('sizes tiles by the largest binding and TILE_BYTES, in whole units', () => {
    const GiB = 2 ** 30;
    expect(tileElements(2 * GiB, 4, 2048)).toBe(TILE_BYTES / 4);
    expect(tileElements(2 * GiB, 3 * 2, 2048) % 2048).toBe(0);
    expect(tileElements(2 * GiB, 3 * 2, 2048) * 6).toBeLessThanOrEqual(TILE_BYTES);
    expect(tileElements(3 * 4 * 2048 * 5, 12, 2048)).toBe(5 * 2048); // the binding is smaller
    expect(tileElements(3 * 4 * 64, 12, 2048)).toBe(64); // tiny forced limits: steps of 32
    expect(tileElements(4096, 4, 256)).toBe(1024);
    expect(tileElements(16, 4, 256)).toBe(32); // never under 32
  });

  it('cuts [0, numel) into ranges of the limit, one (maybe empty) range when it fits', () => {
    expect(tileRanges(0, 64)).toEqual([[0, 0]]);
    expect(tileRanges(64, 64)).toEqual([[0, 64]]);
    expect(tileRanges(150, 64)).toEqual([
      [0, 64],
      [64, 128],
      [128, 150],
    ]);
  });

  it('stitches each tile at its first element, and adds counts', () => {
    const tiles = [
      { start: 0, end: 2, out: [1, 2] },
      { start: 2, end: 3, out: [3] },
    ];
    expect(Array.from(stitch(new Float32Array(3), tiles, (o) => o))).toEqual([1, 2, 3]);
    expect(Array.from(stitch(new Uint8Array(6), tiles, (o) => o, 2))).toEqual([1, 2, 0, 0, 3, 0]);
    const total = new Uint32Array([1, 2]);
    addCounts(total, [3, 4]);
    expect(Array.from(total)).toEqual([4, 6]);
  });
});
