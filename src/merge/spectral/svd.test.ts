// Plan: the thin SVD against torch.linalg.svd's singular values (__fixtures__/spectral.json, made by
// tools/fixtures/make_spectral_fixtures.py: random, wide, rank-deficient, repeated and near-zero
// singular values, a zero matrix, one row) and on random matrices of odd shapes: U·diag(s)·Vᵀ
// rebuilds A, U's columns and Vᵀ's rows are orthonormal, s descends — each within a few ulps of the
// largest singular value (docs/merge.md#spectral gives the tolerances and why). The WebAssembly SIMD
// sweeps give the JavaScript sweeps' bits.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jacobiWasmAvailable } from './jacobi-wasm';
import { matmul, polar, svd, SvdError, type Svd } from './svd';

interface Fixture {
  svd: { m: number; n: number; a: number[]; s: number[] }[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/spectral.json', import.meta.url), 'utf8'),
) as Fixture;

const EPS = Number.EPSILON;

/** max |U·diag(s)·Vᵀ − A|, max |UᵀU − I|, max |VᵀᵀVᵀ − I| (rows of Vᵀ). */
function errors(d: Svd, a: ArrayLike<number>) {
  const { m, n, k } = d;
  const us = d.u.map((x, i) => x * (d.s[i % k] as number));
  const rebuilt = matmul(us, d.vt, m, k, n);
  let rec = 0;
  for (let i = 0; i < m * n; i++) rec = Math.max(rec, Math.abs((rebuilt[i] as number) - (a[i] as number)));
  let orthU = 0;
  let orthV = 0;
  for (let p = 0; p < k; p++)
    for (let q = 0; q < k; q++) {
      let su = 0;
      let sv = 0;
      for (let i = 0; i < m; i++) su += (d.u[i * k + p] as number) * (d.u[i * k + q] as number);
      for (let j = 0; j < n; j++) sv += (d.vt[p * n + j] as number) * (d.vt[q * n + j] as number);
      orthU = Math.max(orthU, Math.abs(su - +(p === q)));
      orthV = Math.max(orthV, Math.abs(sv - +(p === q)));
    }
  return { rec, orthU, orthV };
}

function expectValid(d: Svd, a: ArrayLike<number>) {
  const scale = Math.max(1e-300, d.s[0] ?? 0);
  const { rec, orthU, orthV } = errors(d, a);
  const tol = 64 * Math.max(d.m, d.n) * EPS;
  expect(rec / scale).toBeLessThanOrEqual(tol);
  expect(orthU).toBeLessThanOrEqual(tol);
  expect(orthV).toBeLessThanOrEqual(tol);
  for (let j = 1; j < d.k; j++) expect(d.s[j] as number).toBeLessThanOrEqual(d.s[j - 1] as number);
}

describe('svd', () => {
  for (const c of fixture.svd)
    it(`${c.m}×${c.n}: torch's singular values, a valid decomposition`, () => {
      const d = svd(c.a, c.m, c.n);
      expect(d.k).toBe(Math.min(c.m, c.n));
      const scale = Math.max(...c.s, 1e-300);
      d.s.forEach((s, j) =>
        expect(Math.abs(s - (c.s[j] as number))).toBeLessThanOrEqual(16 * c.m * c.n * EPS * scale),
      );
      expectValid(d, c.a);
    });

  it('a zero matrix gives U = I and Vᵀ = I, as LAPACK does', () => {
    const d = svd(new Float64Array(15), 3, 5);
    expect(Array.from(d.u)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(d.vt)).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(d.s)).toEqual([0, 0, 0]);
  });

  it('completes U past zero columns (a matrix with zero columns and rows)', () => {
    const a = new Float64Array(6 * 4);
    a[1 * 4 + 2] = 3;
    a[4 * 4 + 0] = -2;
    const d = svd(a, 6, 4);
    expect(Array.from(d.s)).toEqual([3, 2, 0, 0]);
    expectValid(d, a);
  });

  it('random shapes, ranks and scales', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: -40, max: 40 }),
        fc.integer(),
        (m, n, rank, e, seed) => {
          let s = seed >>> 0;
          const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
          const r = Math.min(rank, m, n);
          const b = Float64Array.from({ length: m * r }, rnd);
          const c = Float64Array.from({ length: r * n }, () => rnd() * 2 ** e);
          const a = matmul(b, c, m, r, n);
          const d = svd(a, m, n);
          expectValid(d, a);
          for (let j = r; j < d.k; j++)
            expect(d.s[j] as number).toBeLessThanOrEqual(64 * m * n * EPS * (d.s[0] as number));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the WebAssembly SIMD sweeps give the JavaScript sweeps’ bits', () => {
    expect(jacobiWasmAvailable()).toBe(true); // Node and every browser the studio supports have SIMD
    const bits = (x: Float64Array) => Array.from(new Uint32Array(x.slice().buffer));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 23 }),
        fc.integer(),
        (m, n, seed) => {
          let s = seed >>> 0;
          const a = Float64Array.from(
            { length: m * n },
            () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1,
          );
          const js = svd(a, m, n, { wasm: false });
          const simd = svd(a, m, n, { wasm: true });
          expect(bits(simd.s)).toEqual(bits(js.s));
          expect(bits(simd.u)).toEqual(bits(js.u));
          expect(bits(simd.vt)).toEqual(bits(js.vt));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('no overflow or underflow at 1e±300 and with subnormal values (scaled by a power of two)', () => {
    for (const scale of [1e300, 1e-300, 1e-310]) {
      const m = 9;
      const n = 6;
      const b = Float64Array.from({ length: m * 3 }, (_, i) => Math.sin(i + 1));
      const c = Float64Array.from({ length: 3 * n }, (_, i) => Math.cos(i * 0.7) * scale);
      const a = matmul(b, c, m, 3, n);
      const d = svd(a, m, n);
      expect(d.s[0] as number).toBeGreaterThan(0);
      expect(Number.isFinite(d.s[0])).toBe(true);
      const { rec, orthU, orthV } = errors(d, a);
      // Subnormal inputs carry fewer bits: their relative precision is what bounds the rebuild.
      expect(rec / (d.s[0] as number)).toBeLessThan(scale < 1e-307 ? 1e-11 : 1e-14);
      expect(Math.max(orthU, orthV)).toBeLessThan(1e-14);
    }
  });

  it('polar(A) has orthonormal columns and polar(A·D) = polar(A)·D for a ±1 diagonal D', () => {
    const m = 7;
    const n = 4;
    const a = Float64Array.from({ length: m * n }, (_, i) => Math.sin(i * 1.7 + 0.3));
    const q = polar(a, m, n);
    const flipped = a.map((x, i) => (i % n === 2 ? -x : x));
    const qf = polar(flipped, m, n);
    q.forEach((x, i) => expect(Math.abs((i % n === 2 ? -x : x) - (qf[i] as number))).toBeLessThan(1e-14));
    const qtq = matmul(
      Float64Array.from({ length: n * m }, (_, i) => q[(i % m) * n + Math.floor(i / m)] as number),
      q,
      n,
      m,
      n,
    );
    qtq.forEach((x, i) => expect(Math.abs(x - +(i % (n + 1) === 0))).toBeLessThan(1e-14));
  });

  it('refuses a shape that does not fit and non-finite values, by a typed error', () => {
    expect(() => svd([1, 2, 3], 2, 2)).toThrow(SvdError);
    expect(() => svd([1, NaN, 3, 4], 2, 2)).toThrow(/NaN/);
  });
});
