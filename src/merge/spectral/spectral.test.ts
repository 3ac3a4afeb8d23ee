// Plan: tsv_m, iso_c and iso_cts through runMerge against FusionBench's own functions run in torch
// float64 (__fixtures__/spectral.json, tools/fixtures/make_spectral_fixtures.py) on small sets —
// tall, wide, square and 1-row weights, a bias, a 3-D tensor; f16 and bf16 inputs; rank-deficient
// task vectors; a zero task vector; four tasks — with each method's parameters (alpha as a number and
// per task, scaling_factor, common_space_fraction, exclude_keys): every element within the documented
// tolerance (docs/merge.md#spectral). Also: results do not depend on the singular vectors' signs
// (the merged model is unchanged when the inputs are permuted by a signed permutation), the subspace
// sizes follow Python's round(), bad parameters are refused by name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MergeDType } from '../../formats/dtype';
import { tensorName } from '../../formats/tensor';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { anyMethodSpec, describeMethod } from '../methods';
import { makeSet, type Layer } from '../testing/engine-suite';
import { isoCtsSizes, roundHalfEven } from './kernels';
import { SpectralSetError } from './run';
import { spectralSpec, SpectralParamError, type SpectralMethod, type SpectralParams } from './spec';

interface Fixture {
  sets: {
    name: string;
    dtype: MergeDType;
    tensors: { name: string; shape: number[]; base: number[]; tasks: number[][] }[];
    cases: { method: SpectralMethod; params: SpectralParams; merged: number[][] }[];
  }[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/spectral.json', import.meta.url), 'utf8'),
) as Fixture;

/**
 * |ours − reference| ≤ 2⁻²³·|reference| + 2⁻⁴⁰·max|reference|: ours is float64 throughout and
 * rounded to f32 once (half an f32 ulp), plus the two float64 SVDs' differences, which stay far
 * below 2⁻⁴⁰ of the tensor's scale on these well-conditioned layers.
 */
export function expectClose(got: Float32Array, want: readonly number[]): void {
  const scale = want.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  got.forEach((x, i) => {
    const w = want[i] as number;
    expect(Math.abs(x - w), `element ${i}: ${x} vs ${w}`).toBeLessThanOrEqual(
      2 ** -23 * Math.abs(w) + 2 ** -40 * scale,
    );
  });
}

describe("the spectral methods against FusionBench's functions (torch float64)", () => {
  const engine = new CpuEngine();
  for (const s of fixture.sets) {
    const layers: Layer[] = s.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      base: Float32Array.from(t.base),
      tasks: t.tasks.map((x) => Float32Array.from(x)),
    }));
    const numTasks = layers[0]?.tasks.length ?? 0;
    const set = makeSet(layers, numTasks, { dtype: s.dtype });
    for (const c of s.cases)
      it(`${s.name}: ${c.method} ${JSON.stringify(c.params)}`, async () => {
        const r = await runMerge(set, spectralSpec(c.method, c.params), engine);
        layers.forEach((l, li) =>
          expectClose(r.merged.get(tensorName(l.name)) as Float32Array, c.merged[li] as number[]),
        );
      });
  }
});

describe('spectral methods: invariances, sizes, parameters', () => {
  const engine = new CpuEngine();
  const random = fixture.sets[0] as Fixture['sets'][number];
  const layers: Layer[] = random.tensors
    .filter((t) => t.shape.length === 2)
    .map((t) => ({
      name: t.name,
      shape: t.shape,
      base: Float32Array.from(t.base),
      tasks: t.tasks.map((x) => Float32Array.from(x)),
    }));

  it('a signed permutation of rows and columns commutes with every method (no sign choice leaks)', async () => {
    // Q₁·A·Q₂ has the same singular values and vectors permuted with flipped signs; an SVD is free
    // to pick other signs for them, and the merged task vector must follow Q₁·τ·Q₂ regardless.
    const flip = (l: Layer): Layer => {
      const [m, n] = l.shape as [number, number];
      const map = (v: Float32Array) =>
        Float32Array.from({ length: m * n }, (_, i) => {
          const r = m - 1 - Math.floor(i / n);
          const c = ((i % n) + 1) % n;
          return (r % 2 ? -1 : 1) * (c % 3 === 1 ? -1 : 1) * (v[r * n + c] as number);
        });
      return { ...l, base: map(l.base), tasks: l.tasks.map(map) };
    };
    for (const method of ['tsv_m', 'iso_c', 'iso_cts'] as const) {
      const spec = spectralSpec(method);
      const a = await runMerge(makeSet(layers, 3), spec, engine);
      const b = await runMerge(makeSet(layers.map(flip), 3), spec, engine);
      for (const l of layers) {
        const got = b.merged.get(tensorName(l.name)) as Float32Array;
        const want = flip({ ...l, base: a.merged.get(tensorName(l.name)) as Float32Array, tasks: [] }).base;
        got.forEach((x, i) => expect(Math.abs(x - (want[i] as number))).toBeLessThanOrEqual(1e-6));
      }
    }
  });

  it("iso_cts's subspace sizes follow Python's int() and round() (ties to even)", () => {
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
    expect(isoCtsSizes(8, 3, 0.8)).toEqual({ common: 5, perTask: 1 });
    expect(isoCtsSizes(9, 3, 0.5)).toEqual({ common: 3, perTask: 2 });
    expect(isoCtsSizes(1, 2, 0.8)).toEqual({ common: 1, perTask: 0 }); // round(0.5) = 0
    expect(isoCtsSizes(768, 8, 0.8)).toEqual({ common: 616, perTask: 19 });
  });

  it('refuses parameters a method does not take, bad values, and lists that do not fit the set', async () => {
    expect(() => spectralSpec('iso_c', { alpha: 2 })).toThrow(SpectralParamError);
    expect(() => spectralSpec('tsv_m', { scaling_factor: 2 })).toThrow(
      /tsv_m takes no parameter scaling_factor/,
    );
    expect(() => spectralSpec('iso_cts', { common_space_fraction: 1.2 })).toThrow(/\[0, 1\]/);
    expect(() => spectralSpec('tsv_m', { alpha: Number.NaN })).toThrow(/finite/);
    expect(() => anyMethodSpec('iso_c', { lambda: 1 })).toThrow(/iso_c takes no parameter lambda/);
    const set = makeSet(layers, 3);
    await expect(runMerge(set, spectralSpec('tsv_m', { alpha: [1, 2] }), engine)).rejects.toThrow(
      SpectralSetError,
    );
    await expect(runMerge(set, spectralSpec('iso_c', { exclude_keys: ['nope'] }), engine)).rejects.toThrow(
      /"nope"/,
    );
    expect(describeMethod(anyMethodSpec('iso_cts', {}))).toBe(
      'Iso-CTS (isotropic, common and task-specific subspaces) (scaling factor 1, common space 0.8)',
    );
  });

  it('NaN in a 2-D weight is refused with the tensor, the task and its file named', async () => {
    const bad = layers.map((l, i) =>
      i === 0
        ? { ...l, tasks: l.tasks.map((t, j) => (j === 1 ? t.map((x, k) => (k === 3 ? NaN : x)) : t)) }
        : l,
    );
    await expect(runMerge(makeSet(bad, 3), spectralSpec('iso_c'), engine)).rejects.toThrow(
      'layers.0.weight: NaN or ±∞ in its weights (task "task1", task1.safetensors)',
    );
  });
});
