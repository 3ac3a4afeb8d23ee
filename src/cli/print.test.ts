// Plan: counts are grouped by thousands exactly as toLocaleString('en') groups them (the CLI
// avoids it only for the ICU data it loads), for every magnitude a parameter count takes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grouped } from './print';

describe('grouped', () => {
  it('writes counts as toLocaleString("en") does', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 1_234_567, 16_777_216, -4500])
      expect(grouped(n)).toBe(n.toLocaleString('en'));
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
        expect(grouped(n)).toBe(n.toLocaleString('en'));
      }),
    );
  });
});
