// Plan: the original authors' code, not a port of our own: __fixtures__/pertask.json holds the
// task models that a line-for-line copy of their functions computes in torch f32
// (tools/fixtures/make_pertask_fixtures.py) on layers with zeros, -0 in the base, |τ| ties, a TIES
// sum of 0, T-Switch threshold ties, a 0-dim tensor and sizes around the 32-bit mask words, stored
// as F32, F16 and BF16. Every task model merged here equals them bit for bit; each case names the
// reference functions it follows. A head present in one task only (a shape per task) passes through.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MergeDType } from '../../formats/dtype';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { makeSet, type Layer } from '../testing/engine-suite';
import { collectBytes, taskModel } from '../task-model';
import { perTaskSpec, type PerTaskMethod } from './spec';

interface Fixture {
  shapes: Record<string, number[]>;
  sets: Record<MergeDType, { base: Record<string, number[]>; tasks: Record<string, number[]>[] }>;
  cases: {
    dtype: MergeDType;
    method: PerTaskMethod;
    params: Record<string, unknown>;
    models: Record<string, number[]>[];
    scales?: Record<string, number>[];
  }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/pertask.json', import.meta.url), 'utf8'),
) as Fixture;

const f32 = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

const REFERENCE: Record<PerTaskMethod, string> = {
  tall_mask:
    'tall_masks: aggregation.create_task_vector (sum | ties_merging dis-sum), tallmask_utils.generate_task_masks, eval.evaluate',
  consensus_ta:
    'tall_masks: generate_task_masks, construct_consensus_mask, aggregation (merged_tv * consensus_mask), apply_to(α)',
  consensus_ties:
    'tall_masks: ties_merging(reset_thresh=20, dis-sum), generate_task_masks, construct_consensus_mask, apply_to(α)',
  t_switch:
    'Binary-Task-Switch merge_vit.py: drop_elements_separately/process_matrix, binarize_matrix, load_task_vector',
  // Its SVD is not bit-exact across implementations: ./tsvc-fixtures.test.ts, within a tolerance.
  tsv_c: 'task_singular_vectors TSVC_utils.py: compress_tv, compute_svd_and_compress; eval.py evaluate',
};

describe("the per-task methods equal the original authors' code (torch) bit for bit", () => {
  const engine = new CpuEngine();
  for (const c of fixture.cases) {
    const params = JSON.stringify(c.params);
    it(`${c.method} ${params} ${c.dtype} — ${REFERENCE[c.method]}`, async () => {
      const data = fixture.sets[c.dtype];
      const layers: Layer[] = Object.entries(fixture.shapes).map(([name, shape]) => ({
        name,
        shape,
        base: f32(data.base[name] as number[]),
        tasks: data.tasks.map((t) => f32(t[name] as number[])),
      }));
      const set = makeSet(layers, data.tasks.length, { dtype: c.dtype, heads: true });
      const result = await runMerge(set, perTaskSpec(c.method, c.params), engine);
      let changed = 0;
      for (let t = 0; t < set.tasks.length; t++) {
        for (const tensor of taskModel(result, t, engine)) {
          const bytes = await collectBytes(tensor);
          if (tensor.name === 'head.weight') {
            // present in the tasks only, with a shape per task: passed through untouched
            expect(Array.from(new Float32Array(bytes.slice().buffer))).toEqual(
              new Array((t + 2) * 3).fill(t),
            );
            continue;
          }
          const want = c.models[t]?.[tensor.name] as number[];
          const got =
            c.dtype === 'F32'
              ? Array.from(new Uint32Array(bytes.slice().buffer))
              : Array.from(new Uint16Array(bytes.slice().buffer));
          expect(got, `${tensor.name} of task ${t}`).toEqual(want);
          const base = data.base[tensor.name] as number[];
          changed += got.filter((b, i) => c.dtype !== 'F32' || b !== base[i]).length;
        }
      }
      expect(changed).toBeGreaterThan(0);
      if (c.scales && result.modulator.kind === 'switch') {
        const { scales } = result.modulator;
        c.scales.forEach((perTensor, t) => {
          for (const [name, s] of Object.entries(perTensor))
            expect(scales.get(name as never)?.[t], `scale of ${name}, task ${t}`).toBe(Math.fround(s));
        });
      }
    });
  }
});
