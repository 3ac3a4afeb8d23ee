// Plan: the WebGPU EMR kernels against their CPU twins, in dawn.node and in Chromium. Per chunk:
// masks, elected signs and τ_uni identical, the rescalers' sums within the f32 bound of a
// 32-element serial sum plus a workgroup tree, conflicts identical — on sizes around the 32-element
// words and the workgroup (1, 31, 32, 33, 63, 64, 65, 4099), N = 2, 3, 8, 32, inputs F32/F16/BF16
// (also unaligned and odd-length), exact ties, zeros and NaN; a chunk larger than one binding
// (forced small limit) and a 2-D dispatch (forced small per-dimension limit). Reconstruction equals
// the CPU's bit for bit. Then whole merges: GPU engine vs CPU engine through runMerge.
import { describe, expect, it } from 'vitest';
import { narrowFromF32, type MergeDType } from '../formats/dtype';
import { CpuEngine } from '../merge/cpu/engine';
import type { ChunkInput, EmrChunkOut } from '../merge/engine';
import { runMerge, type EmrResult, type MergedResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { collectBytes, taskModel } from '../merge/task-model';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

const cpu = new CpuEngine();

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** Base + N tasks; τ has exact zeros, exact ties (±0.25 across tasks) and small noise. */
function chunk(n: number, numTasks: number, dtype: MergeDType, seed: number, offset = 0): ChunkInput {
  const base = values(n, seed);
  const raw = (v: Float32Array) => {
    const bytes = narrowFromF32(v, dtype);
    const shifted = new Uint8Array(bytes.byteLength + offset);
    shifted.set(bytes, offset);
    return { bytes: shifted.subarray(offset), dtype };
  };
  const tasks = Array.from({ length: numTasks }, (_, t) => {
    const noise = values(n, seed * 31 + t, 0.05);
    return raw(
      base.map((b, i) =>
        i % 7 === 0 ? b : i % 11 === 0 ? b + (t % 2 ? 0.25 : -0.25) : b + (noise[i] as number),
      ),
    );
  });
  return { numel: n, base: raw(base), tasks };
}

/** toEqual walks a 2M-entry histogram for seconds; the first differing bin says as much. */
const firstDifference = (a: Uint32Array, b: Uint32Array) =>
  a.length === b.length ? a.findIndex((x, i) => x !== b[i]) : Math.min(a.length, b.length);

function expectSame(got: EmrChunkOut, want: EmrChunkOut): void {
  expect(Array.from(got.masks)).toEqual(Array.from(want.masks));
  expect(Array.from(got.tauUni)).toEqual(Array.from(want.tauUni));
  expect(got.conflicts).toBe(want.conflicts);
  // f32 partials: ≤ 32 serial adds + a log2(64)-deep tree, relative to the sum of magnitudes
  const close = (a: number, x: number) => {
    if (Number.isNaN(x)) expect(a).toBeNaN();
    else expect(Math.abs(a - x)).toBeLessThanOrEqual((32 + 6) * 2 ** -24 * Math.abs(x) + 1e-30);
  };
  want.sumAbsTau.forEach((x, t) => close(got.sumAbsTau[t] as number, x));
  want.sumAbsMasked.forEach((x, t) => close(got.sumAbsMasked[t] as number, x));
}

describe('GPU EMR elect pass vs CPU twin', () => {
  for (const numTasks of [2, 3, 8, 32]) {
    for (const n of [1, 31, 32, 33, 63, 64, 65, 4099]) {
      it(`N=${numTasks}, n=${n}, F32`, async () => {
        const gpu = new GpuEngine(await testGpu());
        const c = chunk(n, numTasks, 'F32', n + numTasks);
        expectSame(await gpu.emr(c), await cpu.emr(c));
      });
    }
  }

  for (const dtype of ['F16', 'BF16'] as const) {
    for (const [n, offset] of [
      [33, 0],
      [4099, 2],
      [65, 1],
    ] as const) {
      it(`${dtype}, n=${n}, byte offset ${offset}`, async () => {
        const gpu = new GpuEngine(await testGpu());
        const c = chunk(n, 3, dtype, n, offset);
        expectSame(await gpu.emr(c), await cpu.emr(c));
      });
    }
  }

  it('exact ties, all-zero task vectors and NaN', async () => {
    const gpu = new GpuEngine(await testGpu());
    const raw = (v: number[]) => ({
      bytes: narrowFromF32(new Float32Array(v), 'F32'),
      dtype: 'F32' as const,
    });
    const c = { numel: 4, base: raw([1, 1, 1, 1]), tasks: [raw([2, 1, 3, Number.NaN]), raw([0, 1, 4, 5])] };
    const got = await gpu.emr(c);
    expectSame(got, await cpu.emr(c));
    // element 3: τ = (NaN, 4) → the mean is NaN, not > 0 → s = −1; −4 disagrees, NaN never agrees
    expect(Array.from(got.tauUni)).toEqual([-1, -0, 3, -0]);
  });

  it('a chunk larger than one binding is tiled', async () => {
    const gpu = new GpuEngine(withLimits(await testGpu(), { maxStorageBufferBindingSize: 3 * 4 * 96 }));
    const c = chunk(1000, 3, 'F32', 5);
    expectSame(await gpu.emr(c), await cpu.emr(c));
  });

  it('more workgroups than one dispatch dimension allows', async () => {
    const gpu = new GpuEngine(withLimits(await testGpu(), { maxComputeWorkgroupsPerDimension: 4 }));
    const c = chunk(64 * 32 * 9 + 5, 2, 'F32', 9); // 10 workgroups on a 4×3 grid
    expectSame(await gpu.emr(c), await cpu.emr(c));
  });
});

describe('GPU reconstruction vs CPU twin', () => {
  for (const baseDtype of ['F32', 'F16', 'BF16'] as const) {
    for (const outDtype of ['F32', 'F16', 'BF16'] as const) {
      for (const n of [4099, 33, 1]) {
        it(`θ₀ + λ·(M ⊙ τ_uni), ${baseDtype} base → ${outDtype}, n=${n}, bit for bit`, async () => {
          const gpu = new GpuEngine(await testGpu());
          const c = chunk(n, 4, baseDtype, 77 + n);
          const r = await cpu.emr(c);
          const words = Math.ceil(n / 32);
          for (const lambda of [0.7, 1.3, 1]) {
            const got = await gpu.emrReconstruct(c.base, r.tauUni, r.masks, 2 * words, lambda, outDtype);
            const want = await cpu.emrReconstruct(c.base, r.tauUni, r.masks, 2 * words, lambda, outDtype);
            expect(Array.from(got)).toEqual(Array.from(want));
          }
        });
      }
    }
  }

  it('narrowing rounds to nearest even at the halfway points, overflows to ±Inf, keeps NaN and −0', async () => {
    // The weights are θ₀ itself where the mask is off: a base of hand-picked f32 values, nothing on.
    const gpu = new GpuEngine(await testGpu());
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const at = (bits: number) => ((u[0] = bits), f[0] as number);
    const values = [
      at(0x3f808000), // halfway between two bf16: ties to even (down)
      at(0x3f818000), // halfway, odd below: up
      at(0x3f801000), // halfway between two f16 (1 + 2^-11): ties to even
      65520, // rounds past the largest f16 to Inf
      -0,
      Number.NaN,
      2 ** -25, // half the smallest f16 subnormal: ties to 0
      3 * 2 ** -25, // between subnormals 2^-24 and 2^-23, halfway: to even (2^-23)
    ];
    const base = { bytes: new Uint8Array(new Float32Array(values).buffer), dtype: 'F32' as const };
    const tau = new Float32Array(values.length);
    const mask = new Uint32Array(1);
    for (const dtype of ['F16', 'BF16'] as const) {
      const got = await gpu.emrReconstruct(base, tau, mask, 0, 1, dtype);
      expect(Array.from(got)).toEqual(Array.from(await cpu.emrReconstruct(base, tau, mask, 0, 1, dtype)));
    }
  });
});

describe('GPU averaging and Task Arithmetic vs CPU twins', () => {
  for (const numTasks of [2, 8, 32]) {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      it(`N=${numTasks}, ${dtype}, n=4099, bit for bit`, async () => {
        const gpu = new GpuEngine(await testGpu());
        const c = chunk(4099, numTasks, dtype, numTasks * 3 + 1, dtype === 'F32' ? 0 : 2);
        expect(Array.from(await gpu.average(c))).toEqual(Array.from(await cpu.average(c)));
        for (const lambda of [0.3, 1.7]) {
          expect(Array.from(await gpu.taskArithmetic(c, lambda))).toEqual(
            Array.from(await cpu.taskArithmetic(c, lambda)),
          );
        }
      });
    }
  }

  it('tiles past one binding and dispatches in 2-D', async () => {
    const gpu = new GpuEngine(
      withLimits(await testGpu(), {
        maxStorageBufferBindingSize: 2 * 4 * 1024,
        maxComputeWorkgroupsPerDimension: 2,
      }),
    );
    const c = chunk(1500, 2, 'F32', 3);
    expect(Array.from(await gpu.average(c))).toEqual(Array.from(await cpu.average(c)));
    expect(Array.from(await gpu.taskArithmetic(c, 0.3))).toEqual(
      Array.from(await cpu.taskArithmetic(c, 0.3)),
    );
  });
});

describe('GPU TIES passes vs CPU twins', () => {
  for (const [numTasks, dtype] of [
    [2, 'F32'],
    [8, 'BF16'],
    [32, 'F16'],
  ] as const) {
    it(`radix histogram levels 0 and 1, N=${numTasks}, ${dtype}`, async () => {
      const gpu = new GpuEngine(await testGpu());
      const c = chunk(4099, numTasks, dtype, numTasks + 11);
      const [g0, c0] = [new Uint32Array(numTasks * 65536), new Uint32Array(numTasks * 65536)];
      await gpu.absHistogram(c, 0, undefined, g0);
      await cpu.absHistogram(c, 0, undefined, c0);
      expect(firstDifference(g0, c0)).toBe(-1);
      const prefix = Uint32Array.from({ length: numTasks }, (_, t) =>
        c0.subarray(t * 65536, (t + 1) * 65536).findIndex((x) => x > 3),
      );
      const [g1, c1] = [new Uint32Array(numTasks * 65536), new Uint32Array(numTasks * 65536)];
      await gpu.absHistogram(c, 1, prefix, g1);
      await cpu.absHistogram(c, 1, prefix, c1);
      expect(firstDifference(g1, c1)).toBe(-1);
    });

    it(`trimmed election and disjoint mean, N=${numTasks}, ${dtype}, with zero sums left pending`, async () => {
      const gpu = new GpuEngine(await testGpu());
      const c = chunk(4099, numTasks, dtype, numTasks + 13);
      const thresholds = Float32Array.from({ length: numTasks }, (_, t) => 0.005 + t * 0.0003);
      const [g, k] = [await gpu.ties(c, thresholds, 0.9), await cpu.ties(c, thresholds, 0.9)];
      expect(Array.from(g.merged)).toEqual(Array.from(k.merged));
      expect(g.signSum).toBe(k.signSum);
      expect(g.pending).toEqual(k.pending);
      expect(k.pending.length).toBeGreaterThan(0); // the ±0.25 ties of chunk() cancel exactly
    });
  }
});

describe('whole merges: GPU engine vs CPU engine', () => {
  it('EMR over several chunks per tensor: same masks, τ_uni, models; λ within 1e-6', async () => {
    const gpu = new GpuEngine(await testGpu());
    const shapes = [[7, 9], [4099], [33]];
    const base = memoryCheckpoint(
      'base',
      shapes.map((shape, i) => ({
        name: `w${i}`,
        dtype: 'F32',
        shape,
        values: values(
          shape.reduce((a, b) => a * b, 1),
          i + 1,
        ),
      })),
    );
    const tasks = [0, 1, 2, 3, 4].map((t) => ({
      name: `t${t}`,
      checkpoint: memoryCheckpoint(
        `t${t}`,
        shapes.map((shape, i) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const b = values(n, i + 1);
          const d = values(n, 100 * t + i, 0.01);
          return {
            name: `w${i}`,
            dtype: 'F32' as const,
            shape,
            values: b.map((x, k) => x + (d[k] as number)),
          };
        }),
      ),
    }));
    const set = buildModelSet(base, tasks);
    const opts = { budgetBytes: 64 * 1024 };
    const [g, c] = (await Promise.all([
      runMerge(set, methodSpec('emr'), gpu, opts),
      runMerge(set, methodSpec('emr'), cpu, opts),
    ])) as [EmrResult, EmrResult];
    for (const s of set.shared) {
      expect(Array.from(g.masks.get(s.name) as Uint32Array)).toEqual(
        Array.from(c.masks.get(s.name) as Uint32Array),
      );
      expect(Array.from(g.tauUni.get(s.name) as Float32Array)).toEqual(
        Array.from(c.tauUni.get(s.name) as Float32Array),
      );
    }
    g.lambdas.forEach((l, t) =>
      expect(Math.abs(l - (c.lambdas[t] as number)) / (c.lambdas[t] as number)).toBeLessThan(1e-6),
    );
    expect(g.tensors.map((t) => t.conflicts)).toEqual(c.tensors.map((t) => t.conflicts));
    // the task models, reconstructed on each engine with the CPU's λ, are identical
    const sameLambda = { ...g, lambdas: c.lambdas };
    const gm = taskModel(sameLambda, 3, gpu);
    const cm = taskModel(c, 3, cpu);
    for (let i = 0; i < gm.length; i++)
      expect(await collectBytes(gm[i] as (typeof gm)[number])).toEqual(
        await collectBytes(cm[i] as (typeof cm)[number]),
      );
    for (const spec of [methodSpec('avg'), methodSpec('ta'), methodSpec('ties')]) {
      const [gm, cm] = (await Promise.all([
        runMerge(set, spec, gpu, opts),
        runMerge(set, spec, cpu, opts),
      ])) as [MergedResult, MergedResult];
      for (const s of set.shared)
        expect(Array.from(gm.merged.get(s.name) as Float32Array)).toEqual(
          Array.from(cm.merged.get(s.name) as Float32Array),
        );
      expect(gm.ties).toEqual(cm.ties);
    }
  });
});
