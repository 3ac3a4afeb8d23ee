// Plan: the LoRA kernel's CPU twin against the task vector computed plainly in f64 — W + s·B·A
// within the error bound of its f32 arithmetic (r products and r − 1 sums, one scaling, one add),
// over random shapes, ranks, scales, ranges and fan_in_fan_out; exactly W where B·A is 0. Then the
// switching kernel: CPU until given another kernel, back to the CPU twin (same bytes, one notice)
// when that kernel fails, and on dispose.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuLoraKernel, loraDelta, SwitchingLoraKernel, type LoraFactors, type LoraKernel } from './kernel';

const U = 2 ** -24; // unit roundoff of f32

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2 ** ((s >>> 7) % 8),
  );
}

describe('LoRA CPU twin', () => {
  it('is W + s·B·A computed in f64, to within its f32 rounding', () => {
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 20 }),
          cols: fc.integer({ min: 1, max: 40 }),
          r: fc.integer({ min: 1, max: 24 }),
          scale: fc.constantFrom(2, 16 / 3, 8 / Math.sqrt(5), 0.1),
          fanInFanOut: fc.boolean(),
          start: fc.nat(),
          length: fc.nat(),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        (p) => {
          const numel = p.rows * p.cols;
          const [out, inn] = p.fanInFanOut ? [p.cols, p.rows] : [p.rows, p.cols];
          const a = values(p.r * inn, p.seed);
          const b = values(out * p.r, p.seed + 1);
          const first = p.start % numel;
          const w = values(Math.max(1, p.length % (numel - first + 1)), p.seed + 2);
          const got = loraDelta(w, first, p.cols, a, b, p.r, p.scale, p.fanInFanOut);
          got.forEach((x, e) => {
            const index = first + e;
            const [i, j] = [Math.floor(index / p.cols), index % p.cols];
            const [o, n] = p.fanInFanOut ? [j, i] : [i, j];
            let ba = 0;
            let abs = 0;
            for (let k = 0; k < p.r; k++) {
              const term = (b[o * p.r + k] as number) * (a[k * inn + n] as number);
              ba += term;
              abs += Math.abs(term);
            }
            const want = (w[e] as number) + p.scale * ba;
            // Products and sums: (r + 1)·u·Σ|b·a| (scaled, with s's own rounding), then the final add.
            const bound = U * Math.abs(want) + 1.01 * p.scale * (p.r + 2) * U * abs + 2 ** -149;
            expect(Math.abs(x - want)).toBeLessThanOrEqual(bound);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is W itself where B·A is 0', () => {
    const w = values(12, 3);
    const got = loraDelta(w, 0, 4, new Float32Array(8), values(6, 4), 2, 4, false);
    expect(got).toEqual(w);
  });
});

describe('SwitchingLoraKernel', () => {
  const f: LoraFactors = {
    name: 'q.weight',
    a: values(6, 1),
    b: values(8, 2),
    r: 2,
    cols: 3,
    scale: 0.5,
    fanInFanOut: false,
  };
  const w = values(12, 5);
  const twin = loraDelta(w, 0, 3, f.a, f.b, 2, 0.5, false);

  it('runs on the CPU twin until given a kernel, then on it, and on the twin after it fails', async () => {
    let calls = 0;
    let disposed = 0;
    const flaky: LoraKernel = {
      kind: 'gpu',
      description: 'GPU: test',
      adapt: async () => {
        calls++;
        if (calls > 1) throw new Error('device lost');
        return new Float32Array(12).fill(7);
      },
      dispose: () => void disposed++,
    };
    const notices: string[] = [];
    const kernel = new SwitchingLoraKernel((why) => notices.push(why));
    expect(kernel.kind).toBe('cpu');
    expect(await kernel.adapt(f, w, 0)).toEqual(twin);
    kernel.use(flaky);
    expect(kernel.kind).toBe('gpu');
    expect(Array.from(await kernel.adapt(f, w, 0))).toEqual(new Array(12).fill(7)); // what the kernel gave
    // Calls in flight together fail together: one notice, every one answered by the twin.
    const after = await Promise.all([kernel.adapt(f, w, 0), kernel.adapt(f, w, 0)]);
    for (const x of after) expect(x).toEqual(twin);
    expect(notices).toEqual(['device lost']);
    expect([kernel.kind, kernel.fellBack, disposed]).toEqual(['cpu', 'device lost', 1]);
    expect(kernel.description).toBe('CPU (after the GPU failed: device lost)');
    expect(await kernel.adapt(f, w, 0)).toEqual(twin);
    expect(calls).toBe(3);
  });

  it('disposes the kernel it was given and returns to the CPU twin', async () => {
    let disposed = 0;
    const kernel = new SwitchingLoraKernel();
    kernel.use({ ...cpuLoraKernel, kind: 'gpu', dispose: () => void disposed++ });
    kernel.dispose();
    expect([kernel.kind, disposed]).toEqual(['cpu', 1]);
    expect(await kernel.adapt(f, w, 0)).toEqual(twin);
  });
});
