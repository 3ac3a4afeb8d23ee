// Plan: the per-task methods' GPU passes (src/gpu/programs/pertask.ts) against their CPU twins
// (src/merge/pertask/kernels.ts), bit for bit, in dawn.node and in Chromium: TALL mask
// construction, T-Switch's binarise and both reconstructions, on F32/F16/BF16 chunks with exact
// zeros, -0 and |τ| ties, sizes around the 32-bit words, several tiles under a forced small binding
// limit, and inputs out of the exact range (a subnormal, NaN) that send their tile to the twin.
import { describe, expect, it } from 'vitest';
import { narrowFromF32, widenToF32, type MergeDType } from '../formats/dtype';
import {
  maskedReconstruct,
  tallMask,
  taSum,
  tSwitchBits,
  tSwitchReconstruct,
} from '../merge/pertask/kernels';
import { perTaskReconstructGpu, tallMaskGpu, tSwitchBitsGpu } from './programs/pertask';
import { GpuRuntime } from './runtime/runtime';
import { testGpu, withLimits } from './testing/gpu';

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (i % 17 === 3) return 0;
    if (i % 19 === 5) return -0;
    if (i % 23 === 7) return scale * 0.25 * (i % 2 ? 1 : -1); // ties across tasks
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** Base + N tasks stored in `dtype`, with their f32 widenings (what the kernels compute on). */
function chunk(n: number, dtype: MergeDType, seed: number, taskCount = 3, poison = false) {
  const base = values(n, seed, 1);
  if (poison && n > 10) {
    base[9] = 1e-40; // subnormal: out of the exact range
    base[n - 1] = Number.NaN;
  }
  const tasks = Array.from({ length: taskCount }, (_, t) => {
    const tau = values(n, seed * 31 + t, 0.1);
    return base.map((b, i) => b + (tau[i] as number));
  });
  const raw = (v: Float32Array) => ({ bytes: narrowFromF32(v, dtype).slice(), dtype });
  const stored = (v: Float32Array) => widenToF32(narrowFromF32(v, dtype), dtype);
  return {
    base: raw(base),
    tasks: tasks.map(raw),
    wide: { base: stored(base), tasks: tasks.map(stored) },
  };
}

const CASES: [number, MergeDType, boolean][] = [
  [1, 'F32', false],
  [33, 'F16', false],
  [100, 'BF16', false],
  [10_000, 'F32', false],
  [10_000, 'BF16', true],
  [5_000, 'F16', true],
];

describe('per-task GPU passes equal their CPU twins', () => {
  const runtime = async () =>
    new GpuRuntime(withLimits(await testGpu(), { maxStorageBufferBindingSize: 4 * 4096 }));

  for (const [n, dtype, poison] of CASES)
    it(`${n} elements, ${dtype}${poison ? ', with a subnormal and a NaN' : ''}`, async () => {
      const rt = await runtime();
      // Which passes the GPU kept and which it handed to the twin (flag raised).
      const flags: number[] = [];
      const run = rt.run.bind(rt);
      rt.run = async (spec, slot) => {
        const r = await run(spec, slot);
        flags.push(r.u32('flag')[0] as number);
        return r;
      };
      const c = chunk(n, dtype, n + 1, 3, poison);
      const tau = taSum(c.wide.base, c.wide.tasks, n);
      const words = Math.ceil(n / 32);
      for (const [t, lambda] of [0.2, 0.6, 1].entries()) {
        const want = new Uint32Array(words);
        tallMask(c.wide.base, c.wide.tasks[t] as Float32Array, tau, n, lambda, want, 0);
        const got = await tallMaskGpu(rt, { numel: n, base: c.base, task: c.tasks[t] as never, tau, lambda });
        expect(Array.from(got), `TALL mask, task ${t}`).toEqual(Array.from(want));
        if (n >= 32) expect(want.some((w) => w !== 0)).toBe(true);

        const wantKeep = new Uint32Array(words);
        const wantSign = new Uint32Array(words);
        const [tp, tn] = [t === 0 ? 0 : 0.05, 0.25];
        tSwitchBits(c.wide.base, c.wide.tasks[t] as Float32Array, n, tp, tn, wantKeep, wantSign);
        const bits = await tSwitchBitsGpu(rt, { numel: n, base: c.base, task: c.tasks[t] as never, tp, tn });
        expect(Array.from(bits.keep), `keep, task ${t}`).toEqual(Array.from(wantKeep));
        expect(Array.from(bits.sign), `sign, task ${t}`).toEqual(Array.from(wantSign));

        for (const alpha of [1, 0.3]) {
          const out = await perTaskReconstructGpu(rt, {
            mode: 'masked',
            base: c.base,
            tau,
            mask: want,
            alpha,
          });
          const ref = maskedReconstruct(c.wide.base, tau, want, 0, alpha);
          expect(Array.from(new Uint32Array(out.buffer, out.byteOffset, n))).toEqual(
            Array.from(new Uint32Array(ref.buffer)),
          );
        }
        const scale = Math.fround(0.0123 * (t + 1));
        const out = await perTaskReconstructGpu(rt, {
          mode: 'switch',
          base: c.base,
          numel: n,
          keep: bits.keep,
          sign: bits.sign,
          scale,
        });
        const ref = tSwitchReconstruct(c.wide.base, bits.keep, bits.sign, 0, scale);
        expect(Array.from(new Uint32Array(out.buffer, out.byteOffset, n))).toEqual(
          Array.from(new Uint32Array(ref.buffer)),
        );
      }
      expect(flags.filter((f) => f === 0).length).toBeGreaterThan(0);
      expect(flags.some((f) => f === 1)).toBe(poison);
      rt.dispose();
    });
});
