// Plan: mergekit's own code, not a port: __fixtures__/mergekit-slerp.json holds what mergekit's
// `slerp` (slerp.py, numpy), `nuslerp` (nuslerp.py, with NuSlerpTask.execute's t and base) and
// `multislerp` (multislerp.py) compute on four small random tensors, one of them with models that
// are multiples of the base (the lerp fallbacks) — tools/fixtures/make_slerp_fixtures.py. Each
// case names the function it follows; merged through runMerge, ours equals it to f32 rounding (the
// norms and dot products are reduced in another order). Then the set sizes and parameters
// mergekit refuses, and the fallbacks' exact arithmetic.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensorName } from '../../formats/tensor';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { anyMethodSpec, describeMethod } from '../methods';
import { makeSet, type Layer } from '../testing/engine-suite';
import { multislerpTensor, nuslerpT, nuslerpTensor, slerpTensor } from './slerp';
import { mergekitSpec, type MergekitParams, type SlerpMethod } from './spec';

interface Fixture {
  tensors: { name: string; shape: number[]; base: number[]; tasks: number[][] }[];
  cases: {
    method: SlerpMethod;
    follows: string;
    params: Record<string, unknown> & { weights?: number[] };
    tasks: number[];
    merged: number[][];
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/mergekit-slerp.json', import.meta.url), 'utf8'),
) as Fixture;

describe("mergekit's SLERP family (its own code) on small tensors", () => {
  const engine = new CpuEngine();
  for (const c of fixture.cases)
    it(`${c.method} follows ${c.follows}`, async () => {
      const layers: Layer[] = fixture.tensors.map((t) => ({
        name: t.name,
        shape: t.shape,
        base: Float32Array.from(t.base),
        tasks: c.tasks.map((k) => Float32Array.from(t.tasks[k] as number[])),
      }));
      const { weights, ...rest } = c.params;
      const params = {
        ...rest,
        ...(weights ? { models: weights.map((weight) => ({ weight })) } : {}),
      } as MergekitParams;
      const set = makeSet(layers, c.tasks.length, { minTasks: 1 });
      const r = await runMerge(set, mergekitSpec(c.method, params), engine);
      layers.forEach((l, li) => {
        const got = r.merged.get(tensorName(l.name)) as Float32Array;
        const want = c.merged[li] as number[];
        expect(got.length).toBe(want.length);
        got.forEach((x, i) =>
          expect(Math.abs(x - (want[i] as number))).toBeLessThan(2e-6 * (1 + Math.abs(want[i] as number))),
        );
        expect(got.some((x, i) => x !== l.base[i] && x !== l.tasks[0]?.[i])).toBe(true);
      });
    });
});

describe('the SLERP family: set sizes, parameters, fallbacks', () => {
  const layers = (n: number): Layer[] => [
    {
      name: 'w',
      shape: [2, 2],
      base: new Float32Array([1, 0, 0, 1]),
      tasks: Array.from({ length: n }, (_, t) => new Float32Array([0, 1 + t, 1, 0])),
    },
  ];

  it('slerp takes the base and one model, nuslerp two (mergekit refuses others)', async () => {
    const engine = new CpuEngine();
    await expect(runMerge(makeSet(layers(2), 2), mergekitSpec('slerp', { t: 0.5 }), engine)).rejects.toThrow(
      'exactly one other; the set has 2',
    );
    await expect(runMerge(makeSet(layers(3), 3), mergekitSpec('nuslerp', {}), engine)).rejects.toThrow(
      'exactly two models',
    );
    const r = await runMerge(makeSet(layers(1), 1, { minTasks: 1 }), mergekitSpec('slerp', { t: 1 }), engine);
    // t = 1 ends on the other model (to the f32 rounding of sin θ / sin θ).
    Array.from(r.merged.get(tensorName('w')) as Float32Array).forEach((x, i) =>
      expect(x).toBeCloseTo([0, 1, 1, 0][i] as number, 6),
    );
  });

  it("refuses what mergekit's parameter definitions refuse", () => {
    expect(() => mergekitSpec('slerp')).toThrow('slerp needs t');
    expect(() => mergekitSpec('slerp', { t: 0.5, weight: 1 })).toThrow('slerp takes no parameter weight');
    expect(() => mergekitSpec('nuslerp', { t: 0.5 })).toThrow('nuslerp takes no parameter t');
    expect(() => mergekitSpec('multislerp', { normalize_weights: 1 as unknown as boolean })).toThrow(
      'normalize_weights must be true or false',
    );
    expect(anyMethodSpec('nuslerp', { nuslerp_flatten: false }, { mergekit: true })).toMatchObject({
      name: 'nuslerp',
      flatten: false,
      rowWise: false,
    });
    expect(describeMethod(mergekitSpec('slerp', { t: 0.25 }))).toBe('SLERP (t = 0.25)');
  });

  it('falls back to lerp with f32 factors for colinear vectors (slerp: |dot| > 0.9995)', () => {
    const v0 = new Float32Array([1, 2, 3]);
    const v1 = new Float32Array([2, 4, 6]);
    const fr = Math.fround;
    const lerp = v0.map((x, i) => fr(fr(fr(0.7) * x) + fr(fr(0.3) * (v1[i] as number))));
    expect(Array.from(slerpTensor(0.3, v0, v1))).toEqual(Array.from(lerp));
    // nuslerp row by row: the first row colinear (lerp), the second not.
    const a = new Float32Array([1, 2, 1, 0]);
    const b = new Float32Array([3, 6, 0, 1]);
    const r = nuslerpTensor(0.5, a, b, [2, 2], false, false);
    expect([r[0], r[1]]).toEqual([fr(fr(0.5) + fr(1.5)), fr(fr(1) + fr(3))]);
    expect(r[2]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(nuslerpT(1, -1)).toBe(0.5);
    expect(nuslerpT(1, 3)).toBe(0.75);
  });

  it('multislerp: two antipodal models fall back to the weighted sum, three are refused', () => {
    const x = new Float32Array([1, -2]);
    const y = new Float32Array([-1, 2]);
    expect(Array.from(multislerpTensor([x, y], [1, 1], undefined, true, 1e-8))).toEqual([0, 0]);
    expect(() => multislerpTensor([x, y, x.slice()], [1, 2, 1], undefined, true, 1e-8)).toThrow(
      'the weighted sum of the input tensors is zero',
    );
  });
});
