// Plan: each sparsification mask of ./sparsify equals the torch-shaped port's
// (../testing/mergekit-port: sparsify.magnitude, magnitude_outliers, bernoulli, della_magprune)
// element for element, on values with exact ties, zeros, ±0 and a NaN; the radix rank select
// equals a sort; the seeded generator is pinned, chunking-invariant and keyed by seed, tensor, task.
import { describe, expect, it } from 'vitest';
import * as port from '../testing/mergekit-port';
import { fnv1a, mix, streamKey, uniformAt } from './rng';
import {
  absKeys,
  applyMask,
  bernoulliMask,
  dellaMask,
  keepRanks,
  magnitudeMask,
  outliersMask,
  selectRank,
} from './sparsify';

/** Deterministic values with many exact ties (a small set of magnitudes), zeros and both signs. */
function tiedValues(n: number, seed: number, levels = 7): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const level = s % levels;
    const sign = (s >>> 16) & 1 ? 1 : -1;
    return level === 0 ? ((s >>> 17) & 1 ? 0 : -0) : sign * level * 0.125;
  });
}

function noisyValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.02;
  });
}

const arr = (m: Uint8Array) => Array.from(m);

describe('rank selection', () => {
  it('selectRank and keepRanks equal a sort by (|τ|, index)', () => {
    for (const [n, seed] of [
      [1, 1],
      [2, 2],
      [33, 3],
      [500, 4],
      [4097, 5],
    ] as const) {
      const tau = tiedValues(n, seed);
      const keys = absKeys(tau);
      const order = Array.from(keys.keys()).sort(
        (a, b) => (keys[a] as number) - (keys[b] as number) || a - b,
      );
      for (const r of [0, Math.floor(n / 3), n - 1]) {
        const { key, less } = selectRank(keys, r);
        expect(key).toBe(keys[order[r] as number]);
        expect(less).toBe(order.findIndex((i) => keys[i] === key));
      }
      for (const [lo, hi] of [
        [0, n],
        [Math.floor(n / 4), Math.ceil((3 * n) / 4)],
        [n - 1, n],
        [3, 3],
      ] as const) {
        const want = new Uint8Array(n);
        for (const i of order.slice(lo, hi)) want[i] = 1;
        expect(arr(keepRanks(keys, lo, hi))).toEqual(arr(want));
      }
    }
  });

  it('NaN ranks above +∞, −0 equals +0', () => {
    const tau = new Float32Array([NaN, Infinity, -0, 0, -1, 1]);
    expect(arr(magnitudeMask(tau, 2 / 6))).toEqual([1, 1, 0, 0, 0, 0]);
    expect(arr(magnitudeMask(tau, 3 / 6))).toEqual([1, 1, 0, 0, 0, 1]); // the later of ±1
    expect(arr(port.magnitudeMask(tau, 3 / 6))).toEqual([1, 1, 0, 0, 0, 1]);
  });
});

describe('sparsification masks equal the port of mergekit/sparsify.py', () => {
  const cases = [
    ['tied', (n: number, s: number) => tiedValues(n, s)],
    ['noisy', (n: number, s: number) => noisyValues(n, s)],
  ] as const;
  for (const [label, make] of cases)
    for (const n of [1, 7, 32, 33, 257, 1000])
      it(`magnitude and magnitude_outliers, ${label}, n = ${n}`, () => {
        const tau = make(n, n + 11);
        for (const density of [0, 0.01, 0.2, 0.5, 0.9, 0.999]) {
          expect(arr(magnitudeMask(tau, density))).toEqual(arr(port.magnitudeMask(tau, density)));
          for (const gamma of [0, 0.01, 0.1, 0.6])
            expect(arr(outliersMask(tau, density, gamma))).toEqual(
              arr(port.outliersMask(tau, density, gamma, false)),
            );
        }
      });

  it("breadcrumbs with ⌊gamma·n⌋ = 0: mergekit's slice [n_bot:-0] keeps nothing, ours keeps the top", () => {
    const tau = noisyValues(50, 3);
    const python = port.outliersMask(tau, 0.5, 0.01, true);
    expect(python.every((x) => x === 0)).toBe(true);
    const ours = outliersMask(tau, 0.5, 0.01);
    expect(arr(ours)).toEqual(arr(port.outliersMask(tau, 0.5, 0.01, false)));
    expect(arr(ours)).toEqual(arr(magnitudeMask(tau, 0.5)));
  });

  it('random (DARE): Bernoulli(density) from the seeded stream', () => {
    const key = streamKey(7, 'layers.0.weight', 1);
    for (const density of [0, 0.1, 0.5, 0.9])
      expect(arr(bernoulliMask(key, 0, 999, density))).toEqual(
        arr(port.bernoulliMask(999, density, (i) => uniformAt(key, i))),
      );
    const kept = bernoulliMask(key, 0, 100_000, 0.3).reduce((a, x) => a + x, 0);
    expect(Math.abs(kept / 100_000 - 0.3)).toBeLessThan(0.01);
  });

  for (const shape of [[37], [1], [6, 1], [5, 9], [3, 4, 5], [2, 3, 2, 2]])
    it(`della_magprune along dim 1, shape [${shape.join(', ')}]`, () => {
      const n = shape.reduce((a, d) => a * d, 1);
      const key = streamKey(3, 'w', 0);
      for (const tau of [tiedValues(n, n), noisyValues(n, n)])
        for (const [density, epsilon] of [
          [0.5, 0.15],
          [0.2, 0.1],
          [0.9, 0.05],
        ] as const)
          expect(arr(dellaMask(tau, shape, density, epsilon, key))).toEqual(
            arr(port.dellaMask(tau, shape, density, epsilon, (i) => uniformAt(key, i))),
          );
    });

  it('della_magprune: long fibers sorted by comparison rank as packed keys do', () => {
    const tau = tiedValues(3 * 50, 8);
    const key = streamKey(1, 'w', 2);
    expect(arr(dellaMask(tau, [3, 50], 0.5, 0.2, key, 10))).toEqual(
      arr(dellaMask(tau, [3, 50], 0.5, 0.2, key)),
    );
  });

  it('della_magprune keeps the larger magnitudes more often', () => {
    const n = 20_000;
    const tau = Float32Array.from({ length: n }, (_, i) => i + 1); // one row, rank = index
    const mask = dellaMask(tau, [n], 0.5, 0.4, streamKey(0, 'w', 0));
    const share = (from: number, to: number) =>
      mask.subarray(from, to).reduce((a, x) => a + x, 0) / (to - from);
    expect(share(0, 2000)).toBeLessThan(0.2); // p ≈ 0.1 … 0.18
    expect(share(n - 2000, n)).toBeGreaterThan(0.8); // p ≈ 0.82 … 0.9
  });

  it('rescale matches the L1 norm (rescaled_masked_tensor), and leaves tiny norms alone', () => {
    const tau = noisyValues(400, 9);
    const mask = magnitudeMask(tau, 0.3);
    const got = applyMask(tau, mask, true);
    const want = port.rescaledMaskedTensor(tau, mask, true);
    got.forEach((x, i) =>
      expect(Math.abs(x - (want[i] as number))).toBeLessThan(1e-6 * Math.abs(want[i] as number) + 1e-12),
    );
    const l1 = (v: ArrayLike<number>) => Array.from(v).reduce((a, x) => a + Math.abs(x), 0);
    expect(l1(got) / l1(tau)).toBeCloseTo(1, 5);
    const tiny = new Float32Array([1e-9, -1e-9, 0, 0]);
    expect(Array.from(applyMask(tiny, new Uint8Array([1, 0, 0, 0]), true))).toEqual([
      Math.fround(1e-9),
      -0,
      0,
      0,
    ]);
  });
});

describe('the seeded generator (rng.ts)', () => {
  it('is pinned: the documented hash gives these words', () => {
    // Golden values: a GPU twin or another implementation of docs/merge.md#seeded-rng must match.
    expect(mix(0)).toBe(0);
    expect(mix(1)).toBe(0x688990c0);
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    const key = streamKey(0, 'layers.0.weight', 0);
    expect(key).toBe(0x017ff5aa);
    expect([0, 1, 2, 3].map((i) => uniformAt(key, i) * 2 ** 24)).toEqual([
      5988056, 887024, 14805563, 12349163,
    ]);
  });

  it('any chunking of a tensor draws the same bits', () => {
    const key = streamKey(42, 'model.layers.3.mlp.up_proj.weight', 2);
    const whole = bernoulliMask(key, 0, 10_000, 0.4);
    for (const size of [1, 31, 32, 1000, 4096]) {
      const parts: number[] = [];
      for (let start = 0; start < 10_000; start += size)
        parts.push(...bernoulliMask(key, start, Math.min(size, 10_000 - start), 0.4));
      expect(parts).toEqual(arr(whole));
    }
  });

  it('seed, tensor name and task each give another stream', () => {
    const draw = (seed: number, name: string, task: number) =>
      arr(bernoulliMask(streamKey(seed, name, task), 0, 256, 0.5));
    const a = draw(0, 'w', 0);
    expect(draw(0, 'w', 0)).toEqual(a);
    expect(draw(1, 'w', 0)).not.toEqual(a);
    expect(draw(0, 'v', 0)).not.toEqual(a);
    expect(draw(0, 'w', 1)).not.toEqual(a);
  });
});
