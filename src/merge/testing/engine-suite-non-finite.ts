// The engine suite, NaN/±∞ in the weights: every method merges them as its twin does and counts
// them per model, equal to a count of the stored bits — per chunk, tiled and over whole merges.
import { describe, expect, it } from 'vitest';
import { narrowFromF32 } from '../../formats/dtype';
import { runMerge } from '../merge';
import { methodSpec } from '../methods';
import {
  bits,
  directNonFinite,
  expectSameEmrChunk,
  twinAverage,
  twinEmr,
  twinTa,
  twinTies,
  type UseEngine,
} from './engine-suite-checks';
import { makeSet, nonFiniteChunk, randomLayers, testChunk, widen, type Layer } from './engine-suite-inputs';

export function nonFiniteSuite(label: string, using: UseEngine): void {
  describe(`${label}: NaN/±∞ in the weights, merged as the formulas say and counted`, () => {
    for (const [numTasks, dtype, n, offset] of [
      [2, 'F32', 4099, 0],
      [8, 'F32', 70_001, 0], // split over a parallel engine's workers
      [3, 'F16', 1027, 2],
      [3, 'BF16', 4099, 1],
    ] as const) {
      it(
        `every method, N=${numTasks}, ${dtype}, n=${n}: counts per model equal the stored bits' count`,
        using(async (e) => {
          const c = nonFiniteChunk(n, numTasks, dtype, numTasks + n, offset);
          const want = directNonFinite(c);
          expect(want.every((x) => x > 0)).toBe(true);
          const emr = await e.emr(c);
          expectSameEmrChunk(emr, twinEmr(c));
          expect(Array.from(emr.nonFinite)).toEqual(want);
          const avg = await e.average(c);
          expect(bits(avg.merged)).toEqual(bits(twinAverage(c)));
          expect(Array.from(avg.nonFinite)).toEqual(want);
          const ta = await e.taskArithmetic(c, 0.3);
          expect(bits(ta.merged)).toEqual(bits(twinTa(c, 0.3)));
          expect(Array.from(ta.nonFinite)).toEqual(want);
          const th = Float32Array.from({ length: numTasks }, () => 0.004);
          const [g, k] = [await e.ties(c, th, 1), twinTies(c, th, 1)];
          expect(bits(g.merged)).toEqual(bits(k.merged));
          expect(g.signSum).toBe(k.signSum);
          expect(g.pending).toEqual(k.pending);
          expect(Array.from(g.nonFinite)).toEqual(want);
        }),
      );
    }

    it(
      'tiled (forced small limit): tiles with and without NaN/±∞, counts added over the tiles',
      using(
        async (e) => {
          const c = nonFiniteChunk(3000, 3, 'F32', 12);
          // NaN/±∞ only in the second third: the other tiles hold none
          for (const raw of [c.base, ...c.tasks]) {
            const v = new Float32Array(raw.bytes.buffer, raw.bytes.byteOffset, c.numel);
            for (let i = 0; i < c.numel; i++)
              if ((i < 1000 || i >= 2000) && !Number.isFinite(v[i] as number)) v[i] = 0.5;
          }
          const want = directNonFinite(c);
          expect(want.every((x) => x > 0)).toBe(true);
          const emr = await e.emr(c);
          expectSameEmrChunk(emr, twinEmr(c));
          expect(Array.from(emr.nonFinite)).toEqual(want);
          for (const r of [await e.average(c), await e.taskArithmetic(c, 0.3)])
            expect(Array.from(r.nonFinite)).toEqual(want);
          const th = new Float32Array([0.004, 0.004, 0.004]);
          const ties = await e.ties(c, th, 1);
          expect(bits(ties.merged)).toEqual(bits(twinTies(c, th, 1).merged));
          expect(Array.from(ties.nonFinite)).toEqual(want);
        },
        { maxStorageBufferBindingSize: 3 * 4 * 256 },
      ),
    );

    it(
      'a non-finite base alone: averaging, which does not use it, still counts it',
      using(async (e) => {
        const c = testChunk(100, 2, 'F32', 5);
        const base = widen(c.base);
        base[17] = Infinity;
        const withBase = { ...c, base: { bytes: narrowFromF32(base, 'F32'), dtype: 'F32' as const } };
        const avg = await e.average(withBase);
        expect(Array.from(avg.nonFinite)).toEqual([1, 0, 0]);
        expect(bits(avg.merged)).toEqual(bits(twinAverage(c)));
        expect(Array.from((await e.average(c)).nonFinite)).toEqual([0, 0, 0]);
      }),
    );

    for (const method of ['emr', 'avg', 'ta', 'ties'] as const) {
      it(
        `${method}: a whole merge reports the counts per task and per shared tensor (chunked)`,
        using(async (e) => {
          const layers = randomLayers(17, 3, [[40, 50], [33], [7]]);
          const set = makeSet(layers, 3);
          const clean = await runMerge(set, methodSpec(method), e, { budgetBytes: 1 });
          expect(clean.nonFinite).toEqual({ base: 0, tasks: [0, 0, 0], tensors: [] });

          (layers[0] as Layer).base[5] = Number.NaN;
          ((layers[0] as Layer).tasks[1] as Float32Array).fill(Infinity, 100, 140);
          ((layers[2] as Layer).tasks[2] as Float32Array)[6] = -Infinity;
          const r = await runMerge(makeSet(layers, 3), methodSpec(method), e, { budgetBytes: 1 });
          expect(r.nonFinite).toEqual({
            base: 1,
            tasks: [0, 40, 1],
            tensors: [
              { name: 'layers.0.weight', base: 1, tasks: [0, 40, 0] },
              { name: 'layers.2.weight', base: 0, tasks: [0, 0, 1] },
            ],
          });
        }),
      );
    }
  });
}
