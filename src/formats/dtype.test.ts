// Plan: the f16/bf16 conversions are exact. Widening is checked on every one of the 65 536 bit
// patterns against an independent decode; narrowing is checked to be round-to-nearest-even by
// comparing with the neighbours of each value, at halfway points, on subnormals, overflow, ±0,
// ±Inf and NaN; and narrow(widen(bits)) gives back the bits for every non-NaN pattern.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  elementCount,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  narrowFromF32,
  widenToF32,
} from './dtype';

const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isNaNBf16 = (b: number) => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
const f32Of = (x: number) => Math.fround(x);

/** The representable f16 value nearest to x with ties to even, found by searching all of them. */
function nearestF16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65504 + half an ulp (16) rounds to Inf
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (f16BitsToF32(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  const below = f16BitsToF32(lo);
  if (below === a || lo === 0x7bff) return sign | lo;
  const above = f16BitsToF32(lo + 1);
  const dl = a - below;
  const dh = above - a;
  if (dl < dh) return sign | lo;
  if (dh < dl) return sign | (lo + 1);
  return sign | (lo & 1 ? lo + 1 : lo);
}

describe('f16', () => {
  it('widens and narrows back every bit pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (isNaN16(h)) {
        expect(x).toBeNaN();
        expect(isNaN16(f32ToF16Bits(x))).toBe(true);
      } else {
        expect(f32ToF16Bits(x)).toBe(h);
      }
    }
  });

  it('rounds to nearest, ties to even (halfway points and random f32)', () => {
    for (let h = 0; h < 0x7bff; h += 7) {
      const mid = (f16BitsToF32(h) + f16BitsToF32(h + 1)) / 2; // exact in f32 for finite f16
      expect(f32ToF16Bits(mid)).toBe(h & 1 ? h + 1 : h);
      expect(f32ToF16Bits(-mid)).toBe(0x8000 | (h & 1 ? h + 1 : h));
    }
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (x) => {
        expect(f32ToF16Bits(x)).toBe(nearestF16Bits(x));
      }),
      { numRuns: 2000 },
    );
  });

  it('overflow, underflow and signed zero', () => {
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65519.99)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(-1e9)).toBe(0xfc00);
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // exactly half the smallest subnormal: ties to even (0)
    expect(f32ToF16Bits(f32Of(2 ** -25 * 1.0000001))).toBe(1);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
  });
});

describe('bf16', () => {
  it('widens and narrows back every bit pattern', () => {
    for (let b = 0; b < 0x10000; b++) {
      const x = bf16BitsToF32(b);
      if (isNaNBf16(b)) expect(isNaNBf16(f32ToBf16Bits(x))).toBe(true);
      else expect(f32ToBf16Bits(x)).toBe(b);
    }
  });

  it('rounds to nearest, ties to even', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (const hi of [0x3f80, 0x3f81, 0x7f7f, 0x0001, 0x8000, 0xbf80]) {
      u[0] = (hi << 16) | 0x8000; // exactly halfway between hi and hi + 1
      expect(f32ToBf16Bits(f[0] as number)).toBe(hi & 1 ? hi + 1 : hi);
      u[0] = (hi << 16) | 0x8001;
      expect(f32ToBf16Bits(f[0] as number)).toBe(hi + 1);
      u[0] = (hi << 16) | 0x7fff;
      expect(f32ToBf16Bits(f[0] as number)).toBe(hi);
    }
    expect(f32ToBf16Bits(3.4e38)).toBe(0x7f80); // rounds up past the largest finite to Inf
    expect(isNaNBf16(f32ToBf16Bits(Number.NaN))).toBe(true);
  });
});

describe('widen / narrow arrays', () => {
  it('round-trips every merge dtype, including unaligned views', () => {
    const values = new Float32Array([0, -0, 1, -2.5, 65504, 1e-7, 3.140625]);
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const bytes = narrowFromF32(values, dtype);
      const shifted = new Uint8Array(bytes.byteLength + 1);
      shifted.set(bytes, 1);
      const back = widenToF32(shifted.subarray(1), dtype);
      expect(Array.from(narrowFromF32(back, dtype))).toEqual(Array.from(bytes));
    }
    expect(Array.from(widenToF32(narrowFromF32(values, 'F32'), 'F32'))).toEqual(Array.from(values));
  });

  it('refuses a byte count that is not whole elements', () => {
    expect(() => widenToF32(new Uint8Array(3), 'F16')).toThrow(RangeError);
  });
});

describe('elementCount', () => {
  it('counts, and refuses bad shapes', () => {
    expect(elementCount([])).toBe(1);
    expect(elementCount([2, 0, 5])).toBe(0);
    expect(elementCount([3, 4])).toBe(12);
    expect(elementCount([-1])).toBeUndefined();
    expect(elementCount([1.5])).toBeUndefined();
    expect(elementCount([2 ** 30, 2 ** 30])).toBeUndefined();
  });
});
