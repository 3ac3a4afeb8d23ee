// The engine suite, EMR elect pass: masks, elected signs and τ_uni against the CPU twin — N, sizes
// around the mask words, F16/BF16 at unaligned offsets, ties, NaN, tiling and 2-D dispatch.
import { describe, expect, it } from 'vitest';
import { narrowFromF32 } from '../../formats/dtype';
import {
  bits,
  expectSameEmrChunk,
  firstDifference,
  twinAverage,
  twinEmr,
  twinHistogram,
  twinReconstruct,
  twinTa,
  twinTies,
  type UseEngine,
} from './engine-suite-checks';
import { testChunk, unpackMask } from './engine-suite-inputs';

export function electSuite(label: string, using: UseEngine): void {
  describe(`${label}: EMR elect pass vs CPU twin`, () => {
    for (const numTasks of [2, 8, 32]) {
      for (const n of [1, 31, 32, 33, 65, 4099]) {
        it(
          `N=${numTasks}, n=${n}, F32`,
          using(async (e) => {
            const c = testChunk(n, numTasks, 'F32', n + numTasks);
            expectSameEmrChunk(await e.emr(c), twinEmr(c));
          }),
        );
      }
    }

    for (const dtype of ['F16', 'BF16'] as const) {
      for (const [n, offset] of [
        [33, 0],
        [4099, 2],
        [65, 1],
      ] as const) {
        it(
          `${dtype}, n=${n}, byte offset ${offset}`,
          using(async (e) => {
            const c = testChunk(n, 3, dtype, n, offset);
            expectSameEmrChunk(await e.emr(c), twinEmr(c));
          }),
        );
      }
    }

    it(
      'F32 at an unaligned byte offset',
      using(async (e) => {
        const c = testChunk(1027, 8, 'F32', 4, 3);
        expectSameEmrChunk(await e.emr(c), twinEmr(c));
      }),
    );

    it(
      'a zero mean elects −1; all-zero task vectors; NaN',
      using(async (e) => {
        const raw = (v: number[]) => ({
          bytes: narrowFromF32(new Float32Array(v), 'F32'),
          dtype: 'F32' as const,
        });
        // τ = (1, −1) ties: mean 0 → −1, ε = 1 from task 1; (0, 0): −1, ε = 0 → −0; (2, 3): +1;
        // (NaN, 4): the mean is NaN, not > 0 → −1; −4 disagrees, NaN never agrees → −0
        const c = {
          numel: 4,
          base: raw([1, 1, 1, 1]),
          tasks: [raw([2, 1, 3, Number.NaN]), raw([0, 1, 4, 5])],
        };
        const got = await e.emr(c);
        expectSameEmrChunk(got, twinEmr(c));
        expect(Array.from(got.nonFinite)).toEqual([0, 1, 0]);
        expect(Array.from(got.tauUni)).toEqual([-1, -0, 3, -0]);
        expect(Array.from(unpackMask(got.masks, 0, 4))).toEqual([0, 0, 1, 0]);
        expect(Array.from(unpackMask(got.masks, 1, 4))).toEqual([1, 0, 1, 0]);
      }),
    );

    it(
      'a chunk larger than one binding is tiled (forced small limit)',
      using(
        async (e) => {
          for (const [n, dtype, offset] of [
            [1000, 'F32', 0],
            [1001, 'BF16', 2],
            [999, 'F16', 1],
          ] as const) {
            const c = testChunk(n, 3, dtype, n, offset);
            expectSameEmrChunk(await e.emr(c), twinEmr(c));
          }
        },
        { maxStorageBufferBindingSize: 3 * 4 * 96 },
      ),
    );

    it(
      'a large chunk, every method (big enough for a parallel engine to split it)',
      using(async (e) => {
        const c = testChunk(70_001, 3, 'F32', 70);
        expectSameEmrChunk(await e.emr(c), twinEmr(c));
        expect(bits((await e.average(c)).merged)).toEqual(bits(twinAverage(c)));
        expect(bits((await e.taskArithmetic(c, 0.3)).merged)).toEqual(bits(twinTa(c, 0.3)));
        const th = new Float32Array([0.004, 0.005, 0.006]);
        const [g, k] = [await e.ties(c, th, 1), twinTies(c, th, 1)];
        expect(bits(g.merged)).toEqual(bits(k.merged));
        expect(g.signSum).toBe(k.signSum);
        expect(g.pending).toEqual(k.pending);
        const [gh, kh] = [new Uint32Array(3 * 65536), new Uint32Array(3 * 65536)];
        await e.absHistogram(c, 0, undefined, gh);
        twinHistogram(c, 0, undefined, kh);
        expect(firstDifference(gh, kh)).toBe(-1);
        const r = twinEmr(c);
        for (const dtype of ['F32', 'BF16'] as const)
          expect(Array.from(await e.emrReconstruct(c.base, r.tauUni, r.masks, 0, 0.7, dtype))).toEqual(
            Array.from(twinReconstruct(c.base, r.tauUni, r.masks, 0, 0.7, dtype)),
          );
      }),
    );

    it(
      'more workgroups than one dispatch dimension allows',
      using(
        async (e) => {
          const c = testChunk(64 * 32 * 9 + 5, 2, 'F32', 9);
          expectSameEmrChunk(await e.emr(c), twinEmr(c));
        },
        { maxComputeWorkgroupsPerDimension: 4 },
      ),
    );
  });
}
