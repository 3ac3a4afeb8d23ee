// The engine suite, whole merges against the naive whole-tensor reference (../reference): EMR's
// masks and τ_uni identical, λ within 1e-6, task models bit for bit; avg, TA and TIES bit for bit.
import { describe, expect, it } from 'vitest';
import { narrowFromF32 } from '../../formats/dtype';
import { tensorName } from '../../formats/tensor';
import { runMerge, type EmrResult, type MergedResult } from '../merge';
import { methodSpec } from '../methods';
import {
  referenceAverage,
  referenceEmr,
  referenceEmrTask,
  referenceTaskArithmetic,
  referenceTies,
} from '../reference';
import { chunkElements } from '../scheduler';
import { collectBytes, taskModel } from '../task-model';
import { bits, expectEmrEqualsReference, type UseEngine } from './engine-suite-checks';
import { makeSet, randomLayers, referenceInput, stored, unpackMask, type Layer } from './engine-suite-inputs';

export function wholeMergeSuite(label: string, using: UseEngine): void {
  describe(`${label}: whole merges vs the whole-tensor reference`, () => {
    it(
      'EMR hand-checked: a zero mean elects −1, strict masks, ε the max over agreeing tasks, λ',
      using(async (e) => {
        // element 0: τ = (+1, −1) → mean 0 → s = −1, ε = 1, masks (0, 1)
        // element 1: τ = (0, 0)   → s = −1, ε = 0, masks (0, 0)
        // element 2: τ = (+2, +3) → s = +1, ε = 3, masks (1, 1)
        // element 3: τ = (−1, +4) → mean 1.5 → s = +1, ε = 4, masks (0, 1)
        const layers: Layer[] = [
          {
            name: 'w',
            shape: [4],
            base: new Float32Array([1, 1, 1, 1]),
            tasks: [new Float32Array([2, 1, 3, 0]), new Float32Array([0, 1, 4, 5])],
          },
        ];
        const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), e)) as EmrResult;
        expect(Array.from(r.tauUni.get(tensorName('w')) as Float32Array)).toEqual([-1, -0, 3, 4]);
        const m = r.masks.get(tensorName('w')) as Uint32Array;
        expect(Array.from(unpackMask(m, 0, 4))).toEqual([0, 0, 1, 0]);
        expect(Array.from(unpackMask(m, 1, 4))).toEqual([1, 0, 1, 1]);
        // λ_0 = mean|τ_0| / mean|M_0⊙τ_uni| = (4/4) / (3/4); λ_1 = (8/4) / (8/4)
        expect(r.lambdas[0]).toBeCloseTo(4 / 3, 12);
        expect(r.lambdas[1]).toBeCloseTo(1, 12);
        expect(r.tensors[0]?.conflicts).toBe(2);
        expect(r.tasks.map((t) => t.density)).toEqual([0.25, 0.75]);
      }),
    );

    it(
      'EMR: a positive sum whose f32 mean underflows elects −1; one element; all-zero task vectors',
      using(async (e) => {
        const tiny = 2 ** -149; // the smallest subnormal: (tiny + 0) / 2 rounds to 0
        const layers: Layer[] = [
          {
            name: 'w',
            shape: [2],
            base: new Float32Array(2),
            tasks: [new Float32Array([tiny, 2 * tiny]), new Float32Array([0, 2 * tiny])],
          },
          {
            name: 'zero',
            shape: [2, 3],
            base: new Float32Array(6).fill(2),
            tasks: [0, 1].map(() => new Float32Array(6).fill(2)),
          },
        ];
        const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), e)) as EmrResult;
        expect(Array.from(r.tauUni.get(tensorName('w')) as Float32Array)).toEqual([-0, 2 * tiny]);
        expectEmrEqualsReference(r, layers);
        const one: Layer[] = [
          {
            name: 'one',
            shape: [1],
            base: new Float32Array([5]),
            tasks: [0, 1, 2].map(() => new Float32Array([5])),
          },
        ];
        const r1 = (await runMerge(makeSet(one, 3), methodSpec('emr'), e)) as EmrResult;
        expect(r1.lambdas).toEqual([1, 1, 1]);
        expect(r1.tasks.every((t) => t.lambdaDefaulted)).toBe(true);
        expectEmrEqualsReference(r1, one);
      }),
    );

    const shapes = [[1], [31], [32], [33], [7, 9], [65], [4099], [3, 5, 11]];
    for (const numTasks of [2, 8, 32]) {
      for (const budget of [chunkElements(numTasks, 1), 1 << 20]) {
        const chunked = budget < 1000;
        it(
          `EMR, N=${numTasks}, ${chunked ? 'chunks of 32 elements' : 'whole tensors'}, models bit for bit`,
          using(async (e) => {
            const layers = randomLayers(numTasks * 7 + budget, numTasks, shapes);
            const budgetBytes = chunked ? 1 : 256 * 2 ** 20;
            const r = (await runMerge(makeSet(layers, numTasks), methodSpec('emr'), e, {
              budgetBytes,
            })) as EmrResult;
            expectEmrEqualsReference(r, layers);
            // every task's model is θ₀ + λ_t·(M_t⊙τ_uni) of the reference (with the reference's λ,
            // since λ itself is only held to 1e-6)
            const ref = referenceEmr(referenceInput(layers));
            const withRefLambda = { ...r, lambdas: ref.lambdas };
            for (const t of [0, numTasks - 1]) {
              const model = taskModel(withRefLambda, t, e, budgetBytes);
              for (const [li, l] of layers.entries()) {
                const got = await collectBytes(model[li] as (typeof model)[number]);
                const want = referenceEmrTask(
                  l.base,
                  ref.tauUni[li] as Float32Array,
                  ref.masks[li]?.[t] as Uint8Array,
                  ref.lambdas[t] as number,
                );
                expect(bits(new Float32Array(got.slice().buffer))).toEqual(bits(want));
              }
            }
          }),
        );
      }
    }

    for (const dtype of ['F16', 'BF16'] as const) {
      it(
        `EMR on ${dtype}: merged in f32, written back in ${dtype} with round-to-nearest-even`,
        using(async (e) => {
          const layers = randomLayers(dtype === 'F16' ? 5 : 6, 3, [[33], [8, 8]]);
          const r = (await runMerge(makeSet(layers, 3, { dtype }), methodSpec('emr'), e, {
            budgetBytes: 1,
          })) as EmrResult;
          expectEmrEqualsReference(r, layers, dtype);
          const ref = referenceEmr(referenceInput(layers, dtype));
          const model = taskModel({ ...r, lambdas: ref.lambdas }, 1, e);
          expect(model[0]?.dtype).toBe(dtype);
          const want = referenceEmrTask(
            stored(layers[0]?.base as Float32Array, dtype),
            ref.tauUni[0] as Float32Array,
            ref.masks[0]?.[1] as Uint8Array,
            ref.lambdas[1] as number,
          );
          const got = await collectBytes(model[0] as (typeof model)[number]);
          expect(Array.from(got)).toEqual(Array.from(narrowFromF32(want, dtype)));
        }),
      );
    }

    it(
      'EMR past one binding (forced small limit), task models included',
      using(
        async (e) => {
          const layers = randomLayers(41, 3, [[40, 50], [7]]);
          const r = (await runMerge(makeSet(layers, 3), methodSpec('emr'), e)) as EmrResult;
          expectEmrEqualsReference(r, layers);
          const ref = referenceEmr(referenceInput(layers));
          const model = taskModel({ ...r, lambdas: ref.lambdas }, 2, e);
          const got = await collectBytes(model[0] as (typeof model)[number]);
          const want = referenceEmrTask(
            layers[0]?.base as Float32Array,
            ref.tauUni[0] as Float32Array,
            ref.masks[0]?.[2] as Uint8Array,
            ref.lambdas[2] as number,
          );
          expect(bits(new Float32Array(got.slice().buffer))).toEqual(bits(want));
        },
        { maxStorageBufferBindingSize: 3 * 4 * 128 },
      ),
    );

    for (const numTasks of [2, 8, 32]) {
      it(
        `avg, TA and TIES, N=${numTasks}, chunked`,
        using(async (e) => {
          const layers = randomLayers(numTasks + 100, numTasks, shapes);
          const set = makeSet(layers, numTasks);
          const input = referenceInput(layers);
          const opts = { budgetBytes: 1 };
          const avg = (await runMerge(set, methodSpec('avg'), e, opts)) as MergedResult;
          const ta = (await runMerge(set, methodSpec('ta', { lambda: 0.3 }), e, opts)) as MergedResult;
          const ties = (await runMerge(
            set,
            methodSpec('ties', { k: 0.2, lambda: 1 }),
            e,
            opts,
          )) as MergedResult;
          const refAvg = referenceAverage(input);
          const refTa = referenceTaskArithmetic(input, 0.3);
          const refTies = referenceTies(input, 0.2, 1);
          expect(ties.ties?.thresholds).toEqual(refTies.thresholds);
          layers.forEach((l, li) => {
            const name = tensorName(l.name);
            expect(bits(avg.merged.get(name) as Float32Array)).toEqual(bits(refAvg[li] as Float32Array));
            expect(bits(ta.merged.get(name) as Float32Array)).toEqual(bits(refTa[li] as Float32Array));
            expect(bits(ties.merged.get(name) as Float32Array)).toEqual(
              bits(refTies.merged[li] as Float32Array),
            );
          });
        }),
      );
    }

    it(
      'TIES resolves zero trimmed sums with the model-wide majority sign',
      using(async (e) => {
        // element 0: τ = (+1, −1) sums to 0 with both kept; every other element elects +1 → majority +1
        const layers: Layer[] = [
          {
            name: 'w',
            shape: [5],
            base: new Float32Array(5),
            tasks: [new Float32Array([1, 2, 2, 2, 2]), new Float32Array([-1, 2, 2, 2, 2])],
          },
        ];
        const r = (await runMerge(
          makeSet(layers, 2),
          methodSpec('ties', { k: 1, lambda: 1 }),
          e,
        )) as MergedResult;
        expect(r.ties?.majority).toBe(1);
        expect(Array.from(r.merged.get(tensorName('w')) as Float32Array)).toEqual([1, 2, 2, 2, 2]);
      }),
    );
  });
}
