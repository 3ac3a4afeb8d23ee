// Plan: mergekit's own code, not a port: __fixtures__/mergekit-gta.json holds the merges that
// mergekit's `sparsify` and `get_mask` compute in torch f32 (with GTATask.execute's mixing steps)
// on three small random tensors with no ties in |τ|, torch.bernoulli fed by our seeded generator
// (tools/fixtures/make_mergekit_fixtures.py). Every generalized task arithmetic method merged here
// equals them to f32 rounding — DARE and DELLA included, element for element.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensorName } from '../../formats/tensor';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { makeSet, type Layer } from '../testing/engine-suite';
import { mergekitSpec, type GtaMethod, type ModelParamsInput } from './spec';

interface Fixture {
  tensors: { name: string; shape: number[]; base: number[]; tasks: number[][] }[];
  cases: {
    method: GtaMethod;
    models: ModelParamsInput[];
    lambda: number;
    seed: number;
    merged: number[][];
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/mergekit-gta.json', import.meta.url), 'utf8'),
) as Fixture;

describe("mergekit's own code (torch) on small tensors", () => {
  const layers: Layer[] = fixture.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    base: Float32Array.from(t.base),
    tasks: t.tasks.map((x) => Float32Array.from(x)),
  }));
  const set = makeSet(layers, 3);
  for (const c of fixture.cases)
    it(c.method, async () => {
      const spec = mergekitSpec(c.method, {
        models: c.models,
        lambda: c.lambda,
        ...(c.method.startsWith('dare') || c.method.startsWith('della') ? { seed: c.seed } : {}),
      });
      const r = await runMerge(set, spec, new CpuEngine());
      let changed = 0;
      layers.forEach((l, li) => {
        const got = r.merged.get(tensorName(l.name)) as Float32Array;
        const want = c.merged[li] as number[];
        got.forEach((x, i) => {
          expect(Math.abs(x - (want[i] as number))).toBeLessThan(1e-6 * (1 + Math.abs(want[i] as number)));
          changed += +(x !== l.base[i]);
        });
      });
      expect(changed).toBeGreaterThan(0);
    });
});
