// Plan: TSV-C against the original authors' code (AntoAndGar/task_singular_vectors), not a port of
// our own: __fixtures__/tsvc.json holds the task models that a line-for-line copy of
// TSVC_utils.compress_tv / compute_svd_and_compress and eval.evaluate's svd_dict arm computes in
// torch f32 (tools/fixtures/make_tsvc_fixtures.py), and `ref64`, the same formulas in float64 on the
// same f32 τ. Layers: wide and tall 2-D weights, a 1×n row (rank int(1/N) = 0), a τ of zeros, a
// rank-1 τ and one with a zero row, a decaying spectrum, a 1-D bias, a 0-dim and a 3-D tensor, in
// F32/F16/BF16, the default sv_reduction (1/N) and 0.5, 1, 0.1; a head per task passes through.
// An SVD is not bit-exact across implementations, so each 2-D tensor of every task model must be
// within TOLERANCE of ref64: |ours − ref64| ≤ 2⁻²⁰·(max|θ₀| + max|ref64 − θ₀|) of the tensor (16
// f32 ulps of its scale; the original's own f32 result is within 4–11), plus one ulp of the stored
// dtype for F16/BF16 (the narrowing). Where the original needs no SVD — the other tensors, and the
// 2-D ones of rank 0 — the bits must be the original's exactly. The ranks kept must be the
// original's int(min(m, n) · sv_reduction). And a task model read in small chunks (rows split
// across chunks) gives the same bytes as read whole.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { widenToF32, type MergeDType } from '../../formats/dtype';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { makeSet, type Layer } from '../testing/engine-suite';
import { collectBytes, taskModel } from '../task-model';
import { isPerTaskResult } from './result';
import { perTaskSpec } from './spec';

interface Fixture {
  shapes: Record<string, number[]>;
  sets: Record<MergeDType, { base: Record<string, number[]>; tasks: Record<string, number[]>[] }>;
  cases: {
    dtype: MergeDType;
    params: Record<string, unknown>;
    ranks: Record<string, number>;
    models: Record<string, number[]>[];
    ref64: Record<string, number[]>[];
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/tsvc.json', import.meta.url), 'utf8'),
) as Fixture;

const f32 = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);
const TOLERANCE = 2 ** -20;

/** One unit in the last place of the stored dtype at |x| (0 for F32: the scale term covers it). */
function ulp(x: number, dtype: MergeDType): number {
  if (dtype === 'F32') return 0;
  if (x === 0) return dtype === 'F16' ? 2 ** -24 : 2 ** -133;
  const e = Math.floor(Math.log2(Math.abs(x)));
  return dtype === 'F16' ? Math.max(2 ** (e - 10), 2 ** -24) : 2 ** (e - 7);
}

const REFERENCE =
  'task_singular_vectors: TSVC_utils.compress_tv / compute_svd_and_compress, eval.evaluate (svd_dict arm), task_vectors.apply_to';

function fixtureSet(dtype: MergeDType) {
  const data = fixture.sets[dtype];
  const layers: Layer[] = Object.entries(fixture.shapes).map(([name, shape]) => ({
    name,
    shape,
    base: f32(data.base[name] as number[]),
    tasks: data.tasks.map((t) => f32(t[name] as number[])),
  }));
  return makeSet(layers, data.tasks.length, { dtype, heads: true });
}

describe("TSV-C equals the original authors' code (torch)", () => {
  const engine = new CpuEngine();
  for (const c of fixture.cases)
    it(`tsv_c ${JSON.stringify(c.params)} ${c.dtype} — ${REFERENCE}`, async () => {
      const set = fixtureSet(c.dtype);
      const result = await runMerge(set, perTaskSpec('tsv_c', c.params), engine);
      if (!isPerTaskResult(result) || result.modulator.kind !== 'lowrank') throw new Error('not TSV-C');
      const ranks = Object.fromEntries([...result.modulator.factors].map(([n, f]) => [n, f.rank]));
      expect(ranks).toEqual(c.ranks);
      const base = fixture.sets[c.dtype].base;
      let near = 0;
      for (let t = 0; t < set.tasks.length; t++)
        for (const tensor of taskModel(result, t, engine)) {
          const bytes = await collectBytes(tensor);
          if (tensor.name === 'head.weight') {
            // present in the tasks only, with a shape per task: passed through untouched
            expect(Array.from(new Float32Array(bytes.slice().buffer))).toEqual(
              new Array((t + 2) * 3).fill(t),
            );
            continue;
          }
          const exact = c.models[t]?.[tensor.name] as number[];
          const bits =
            c.dtype === 'F32' ? new Uint32Array(bytes.slice().buffer) : new Uint16Array(bytes.slice().buffer);
          const ref = c.ref64[t]?.[tensor.name];
          if (!ref || c.ranks[tensor.name] === 0) {
            expect(Array.from(bits), `${tensor.name} of task ${t}`).toEqual(exact);
            continue;
          }
          const got = widenToF32(bytes, c.dtype);
          const b = f32(base[tensor.name] as number[]);
          let scale = 0;
          ref.forEach((r, i) => {
            scale = Math.max(scale, Math.abs(b[i] as number), Math.abs(r - (b[i] as number)));
          });
          ref.forEach((r, i) => {
            const err = Math.abs((got[i] as number) - r);
            const tol = TOLERANCE * scale + ulp(r, c.dtype);
            if (!(err <= tol))
              expect.fail(
                `${tensor.name} of task ${t}, element ${i}: ${got[i]} is ${err} from ${r} (> ${tol})`,
              );
          });
          near++;
        }
      expect(near).toBeGreaterThan(0);
    });

  it('gives the same bytes when a task model is read in small chunks (rows split between them)', async () => {
    const set = fixtureSet('F32');
    const result = await runMerge(set, perTaskSpec('tsv_c', { sv_reduction: 0.5 }), engine);
    for (let t = 0; t < set.tasks.length; t++) {
      const whole = await Promise.all(taskModel(result, t, engine).map(collectBytes));
      // A 1 KiB budget: steps of 32 elements, so most rows of 13, 17 or 6 columns split.
      const small = await Promise.all(taskModel(result, t, engine, 1024).map(collectBytes));
      expect(small).toEqual(whole);
    }
  });
});
