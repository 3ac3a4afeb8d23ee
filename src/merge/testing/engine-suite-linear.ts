// The engine suite, averaging, Task Arithmetic and TIES (election, disjoint mean, radix histograms)
// against the CPU twins, bit for bit, tiled and in 2-D.
import { describe, expect, it } from 'vitest';
import {
  bits,
  firstDifference,
  twinAverage,
  twinHistogram,
  twinTa,
  twinTies,
  type UseEngine,
} from './engine-suite-checks';
import { testChunk } from './engine-suite-inputs';

export function linearSuite(label: string, using: UseEngine): void {
  describe(`${label}: averaging, Task Arithmetic and TIES vs CPU twins`, () => {
    for (const numTasks of [2, 8, 32]) {
      for (const dtype of ['F32', 'F16', 'BF16'] as const) {
        it(
          `avg and TA, N=${numTasks}, ${dtype}, n=4099, bit for bit`,
          using(async (e) => {
            const c = testChunk(4099, numTasks, dtype, numTasks * 3 + 1, dtype === 'F32' ? 0 : 2);
            expect(bits((await e.average(c)).merged)).toEqual(bits(twinAverage(c)));
            for (const lambda of [0.3, 1.7])
              expect(bits((await e.taskArithmetic(c, lambda)).merged)).toEqual(bits(twinTa(c, lambda)));
          }),
        );
      }
    }

    it(
      'avg, TA, TIES and histograms past one binding, dispatched in 2-D (forced small limits)',
      using(
        async (e) => {
          const c = testChunk(1500, 2, 'F32', 3);
          expect(bits((await e.average(c)).merged)).toEqual(bits(twinAverage(c)));
          expect(bits((await e.taskArithmetic(c, 0.3)).merged)).toEqual(bits(twinTa(c, 0.3)));
          const th = new Float32Array([0.005, 0.006]);
          const [g, k] = [await e.ties(c, th, 0.9), twinTies(c, th, 0.9)];
          expect(bits(g.merged)).toEqual(bits(k.merged));
          expect(g.signSum).toBe(k.signSum);
          expect(g.pending).toEqual(k.pending);
          const [gh, kh] = [new Uint32Array(2 * 65536), new Uint32Array(2 * 65536)];
          await e.absHistogram(c, 0, undefined, gh);
          twinHistogram(c, 0, undefined, kh);
          expect(firstDifference(gh, kh)).toBe(-1);
        },
        { maxStorageBufferBindingSize: 2 * 4 * 1024, maxComputeWorkgroupsPerDimension: 2 },
      ),
    );

    for (const [numTasks, dtype] of [
      [2, 'F32'],
      [8, 'BF16'],
      [32, 'F16'],
    ] as const) {
      it(
        `TIES radix histogram levels 0 and 1, N=${numTasks}, ${dtype}`,
        using(async (e) => {
          const c = testChunk(4099, numTasks, dtype, numTasks + 11);
          const [g0, c0] = [new Uint32Array(numTasks * 65536), new Uint32Array(numTasks * 65536)];
          await e.absHistogram(c, 0, undefined, g0);
          twinHistogram(c, 0, undefined, c0);
          expect(firstDifference(g0, c0)).toBe(-1);
          const prefix = Uint32Array.from({ length: numTasks }, (_, t) =>
            c0.subarray(t * 65536, (t + 1) * 65536).findIndex((x) => x > 3),
          );
          const [g1, c1] = [new Uint32Array(numTasks * 65536), new Uint32Array(numTasks * 65536)];
          await e.absHistogram(c, 1, prefix, g1);
          twinHistogram(c, 1, prefix, c1);
          expect(firstDifference(g1, c1)).toBe(-1);
        }),
      );

      it(
        `TIES trimmed election and disjoint mean, N=${numTasks}, ${dtype}, zero sums left pending`,
        using(async (e) => {
          const c = testChunk(4099, numTasks, dtype, numTasks + 13);
          const thresholds = Float32Array.from({ length: numTasks }, (_, t) => 0.005 + t * 0.0003);
          const [g, k] = [await e.ties(c, thresholds, 0.9), twinTies(c, thresholds, 0.9)];
          expect(bits(g.merged)).toEqual(bits(k.merged));
          expect(g.signSum).toBe(k.signSum);
          expect(g.pending).toEqual(k.pending);
          expect(k.pending.length).toBeGreaterThan(0); // the ±0.25 ties of testChunk() cancel exactly
        }),
      );
    }
  });
}
