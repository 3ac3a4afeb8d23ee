// The engine suite, reconstruction: θ₀ + λ·(M ⊙ τ_uni) written in every dtype, bit for bit with the
// CPU twin, tiled, and narrowing's rounding at its edges.
import { describe, expect, it } from 'vitest';
import * as twin from '../cpu/kernels';
import { twinEmr, twinReconstruct, type UseEngine } from './engine-suite-checks';
import { testChunk } from './engine-suite-inputs';

export function reconstructSuite(label: string, using: UseEngine): void {
  describe(`${label}: reconstruction vs CPU twin`, () => {
    for (const baseDtype of ['F32', 'F16', 'BF16'] as const) {
      for (const outDtype of ['F32', 'F16', 'BF16'] as const) {
        it(
          `θ₀ + λ·(M ⊙ τ_uni), ${baseDtype} base → ${outDtype}, n = 1, 33, 4099, bit for bit`,
          using(async (e) => {
            for (const n of [4099, 33, 1]) {
              const c = testChunk(n, 4, baseDtype, 77 + n, n % 2);
              const r = twinEmr(c);
              const words = twin.maskWords(n);
              for (const lambda of [0.7, 1.3, 1]) {
                const got = await e.emrReconstruct(c.base, r.tauUni, r.masks, 2 * words, lambda, outDtype);
                const want = twinReconstruct(c.base, r.tauUni, r.masks, 2 * words, lambda, outDtype);
                expect(Array.from(got)).toEqual(Array.from(want));
              }
            }
          }),
        );
      }
    }

    it(
      'larger than one binding (forced small limit), every output dtype',
      using(
        async (e) => {
          const n = 2000;
          const c = testChunk(n, 3, 'BF16', 8, 2);
          const r = twinEmr(c);
          for (const outDtype of ['F32', 'F16', 'BF16'] as const) {
            const got = await e.emrReconstruct(c.base, r.tauUni, r.masks, twin.maskWords(n), 1.1, outDtype);
            const want = twinReconstruct(c.base, r.tauUni, r.masks, twin.maskWords(n), 1.1, outDtype);
            expect(Array.from(got)).toEqual(Array.from(want));
          }
        },
        { maxStorageBufferBindingSize: 4 * 96, maxComputeWorkgroupsPerDimension: 2 },
      ),
    );

    it(
      'narrowing rounds to nearest even at halfway points, overflows to ±Inf, keeps NaN and −0',
      using(async (e) => {
        // The weights are θ₀ itself where the mask is off: a base of hand-picked f32 values, nothing on.
        const f = new Float32Array(1);
        const u = new Uint32Array(f.buffer);
        const at = (b: number) => ((u[0] = b), f[0] as number);
        const picked = [
          at(0x3f808000), // halfway between two bf16: ties to even (down)
          at(0x3f818000), // halfway, odd below: up
          at(0x3f801000), // halfway between two f16 (1 + 2^-11): ties to even
          65520, // rounds past the largest f16 to Inf
          -0,
          Number.NaN,
          2 ** -25, // half the smallest f16 subnormal: ties to 0
          3 * 2 ** -25, // between subnormals 2^-24 and 2^-23, halfway: to even (2^-23)
        ];
        const base = { bytes: new Uint8Array(new Float32Array(picked).buffer), dtype: 'F32' as const };
        const tau = new Float32Array(picked.length);
        const mask = new Uint32Array(1);
        for (const dtype of ['F16', 'BF16'] as const) {
          const got = await e.emrReconstruct(base, tau, mask, 0, 1, dtype);
          expect(Array.from(got)).toEqual(Array.from(twinReconstruct(base, tau, mask, 0, 1, dtype)));
        }
      }),
    );
  });
}
