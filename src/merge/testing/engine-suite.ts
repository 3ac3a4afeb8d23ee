// The engine test suite: one set of cases that every MergeEngine must pass ("the engines share one
// interface and one test suite": docs/architecture.md#engines). Per chunk, every method against the
// CPU twins (the JavaScript kernels of ../cpu/kernels): masks, elected signs and τ_uni bit for bit,
// the rescalers' sums to f32-partial precision; on ties (a zero mean elects −1), zeros, NaN, sizes
// around the 32-element mask words, N = 2, 8, 32, F32/F16/BF16 inputs at unaligned byte offsets,
// and tensors larger than one binding under a small forced limit. NaN/±∞ in base and tasks
// (F32/F16/BF16, and finite values that only overflow when narrowed): every merging pass counts
// them per model, equal to a count of the stored bits, and merges them as the twins do. Whole
// merges against the naive whole-tensor reference (../reference): masks and τ_uni identical, λ
// within 1e-6 relative, task models (F32, F16, BF16) bit for bit. Registered with
// `engineSuite(label, make)` from a test file per engine.
import { describe, expect, it } from 'vitest';
import { narrowFromF32, widenToF32, type MergeDType } from '../../formats/dtype';
import { tensorName } from '../../formats/tensor';
import * as twin from '../cpu/kernels';
import type { ChunkInput, EmrChunkOut, MergeEngine, RawChunk } from '../engine';
import { runMerge, type EmrResult, type MergedResult } from '../merge';
import { methodSpec } from '../methods';
import { buildModelSet, type ModelSet } from '../model-set';
import {
  referenceAverage,
  referenceEmr,
  referenceEmrTask,
  referenceTaskArithmetic,
  referenceTies,
  type ReferenceInput,
} from '../reference';
import { chunkElements } from '../scheduler';
import { collectBytes, taskModel } from '../task-model';
import { memoryCheckpoint, type MemoryTensor } from './memory-checkpoint';

/** Device limits a test forces down to drive tiling; engines without such limits ignore them. */
export interface EngineLimits {
  readonly maxStorageBufferBindingSize?: number;
  readonly maxComputeWorkgroupsPerDimension?: number;
}

export type EngineFactory = (limits?: EngineLimits) => MergeEngine | Promise<MergeEngine>;

// ---- inputs ----

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** Base + N tasks as raw chunks; τ has exact zeros, exact ties (±0.25 across tasks) and small noise. */
export function testChunk(
  n: number,
  numTasks: number,
  dtype: MergeDType,
  seed: number,
  offset = 0,
): ChunkInput {
  const base = values(n, seed);
  const raw = (v: Float32Array): RawChunk => {
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

export interface Layer {
  name: string;
  shape: number[];
  base: Float32Array;
  tasks: Float32Array[];
}

export function makeSet(
  layers: Layer[],
  numTasks: number,
  opts: { dtype?: MergeDType; heads?: boolean; minTasks?: number } = {},
): ModelSet {
  const dtype = opts.dtype ?? 'F32';
  const base: MemoryTensor[] = layers.map((l) => ({ name: l.name, dtype, shape: l.shape, values: l.base }));
  if (opts.heads)
    base.push({ name: 'head.weight', dtype: 'F32', shape: [4, 3], values: new Float32Array(12) });
  const tasks = Array.from({ length: numTasks }, (_, t) => {
    const tensors: MemoryTensor[] = layers.map((l) => ({
      name: l.name,
      dtype,
      shape: l.shape,
      values: l.tasks[t] as Float32Array,
    }));
    if (opts.heads)
      tensors.push({
        name: 'head.weight',
        dtype: 'F32',
        shape: [t + 2, 3],
        values: new Float32Array((t + 2) * 3).fill(t),
      });
    return { name: `task${t}`, checkpoint: memoryCheckpoint(`task${t}.safetensors`, tensors) };
  });
  return buildModelSet(memoryCheckpoint('base.safetensors', base), tasks, { minTasks: opts.minTasks ?? 2 });
}

/** Values as the stored dtype gives them back (the reference sees what the engine reads). */
export function stored(v: Float32Array, dtype: MergeDType): Float32Array {
  return widenToF32(narrowFromF32(v, dtype), dtype);
}

export function referenceInput(layers: Layer[], dtype: MergeDType = 'F32'): ReferenceInput {
  return {
    tensors: layers.map((l) => ({
      base: stored(l.base, dtype),
      tasks: l.tasks.map((t) => stored(t, dtype)),
    })),
  };
}

export function unpackMask(words: Uint32Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((words[offset + (i >>> 5)] as number) >>> (i & 31)) & 1;
  return out;
}

/** Random layers: task vectors small next to the weights, with exact ties and zeros mixed in. */
export function randomLayers(seed: number, numTasks: number, shapes: number[][]): Layer[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return shapes.map((shape, li) => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const base = Float32Array.from({ length: numel }, () => rnd() * 2 - 1);
    const tasks = Array.from({ length: numTasks }, () =>
      base.map((b) => {
        const r = rnd();
        if (r < 0.1) return b; // τ = 0 exactly
        if (r < 0.15) return b + 0.25; // exact ties across tasks
        return b + (rnd() - 0.5) * 0.02;
      }),
    );
    return { name: `layers.${li}.weight`, shape, base, tasks };
  });
}

// ---- assertions ----

/** f32 bit patterns: τ_uni's sign (−0 where −1 was elected over nothing) and NaN are compared too. */
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.slice().buffer));

const relClose = (got: number, want: number, rel: number) => {
  if (!Number.isFinite(want))
    expect(got).toBe(want); // NaN and ±∞ as they are
  else expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.abs(want) + 1e-30);
};

export function expectSameEmrChunk(got: EmrChunkOut, want: EmrChunkOut): void {
  expect(Array.from(got.masks)).toEqual(Array.from(want.masks));
  expect(bits(got.tauUni)).toEqual(bits(want.tauUni));
  expect(got.conflicts).toBe(want.conflicts);
  expect(Array.from(got.nonFinite)).toEqual(Array.from(want.nonFinite));
  // f32 partials (GPU): ≤ 32 serial adds + a log2(64)-deep tree, relative to the sum of magnitudes
  const rel = (32 + 6) * 2 ** -24;
  want.sumAbsTau.forEach((x, t) => relClose(got.sumAbsTau[t] as number, x, rel));
  want.sumAbsMasked.forEach((x, t) => relClose(got.sumAbsMasked[t] as number, x, rel));
}

export function expectEmrEqualsReference(
  result: EmrResult,
  layers: Layer[],
  dtype: MergeDType = 'F32',
): void {
  const ref = referenceEmr(referenceInput(layers, dtype), result.spec.rescale);
  layers.forEach((l, li) => {
    const numel = l.base.length;
    expect(bits(result.tauUni.get(tensorName(l.name)) as Float32Array)).toEqual(
      bits(ref.tauUni[li] as Float32Array),
    );
    const masks = result.masks.get(tensorName(l.name)) as Uint32Array;
    l.tasks.forEach((_, t) => {
      expect(Array.from(unpackMask(masks, t * twin.maskWords(numel), numel))).toEqual(
        Array.from(ref.masks[li]?.[t] as Uint8Array),
      );
    });
  });
  result.lambdas.forEach((lam, t) => relClose(lam, ref.lambdas[t] as number, 1e-6));
}

/** toEqual walks a 2M-entry histogram for seconds; the first differing bin says as much. */
const firstDifference = (a: Uint32Array, b: Uint32Array) =>
  a.length === b.length ? a.findIndex((x, i) => x !== b[i]) : Math.min(a.length, b.length);

// ---- the CPU twins over raw chunks ----

const widen = (c: RawChunk) => widenToF32(c.bytes, c.dtype);
const twinEmr = (c: ChunkInput) => twin.emrChunk(widen(c.base), c.tasks.map(widen), c.numel);
const twinReconstruct = (
  base: RawChunk,
  tau: Float32Array,
  mask: Uint32Array,
  offset: number,
  lambda: number,
  dtype: MergeDType,
) => narrowFromF32(twin.emrReconstruct(widen(base), tau, mask, offset, lambda), dtype);
const twinAverage = (c: ChunkInput) => twin.averageChunk(c.tasks.map(widen), c.numel);
// NaN/±∞ per model ([base, task 0, …]) from the stored bits: no widening, no kernel code.
const directNonFinite = (c: ChunkInput): number[] =>
  [c.base, ...c.tasks].map(({ bytes, dtype }) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let count = 0;
    for (let i = 0; i < c.numel; i++) {
      if (dtype === 'F32') count += +((view.getUint32(4 * i, true) & 0x7f800000) === 0x7f800000);
      else {
        const exponent = dtype === 'F16' ? 0x7c00 : 0x7f80;
        count += +((view.getUint16(2 * i, true) & exponent) === exponent);
      }
    }
    return count;
  });

/**
 * testChunk with NaN, +∞ and −∞ strewn over the base and every task (different places and amounts
 * per model), and in F16 finite values past its range (70 000) that are ∞ once stored.
 */
export function nonFiniteChunk(
  n: number,
  numTasks: number,
  dtype: MergeDType,
  seed: number,
  offset = 0,
): ChunkInput {
  const c = testChunk(n, numTasks, dtype, seed, offset);
  const specials = [Number.NaN, Infinity, -Infinity, 70_000];
  const strew = (r: RawChunk, m: number): RawChunk => {
    const v = widen(r);
    for (let i = (m * 5) % 13; i < n; i += 61 + 7 * m) v[i] = specials[(i + m) % specials.length] as number;
    const bytes = narrowFromF32(v, dtype);
    const shifted = new Uint8Array(bytes.byteLength + offset);
    shifted.set(bytes, offset);
    return { bytes: shifted.subarray(offset), dtype };
  };
  return { numel: n, base: strew(c.base, 0), tasks: c.tasks.map((t, i) => strew(t, i + 1)) };
}
const twinTa = (c: ChunkInput, l: number) =>
  twin.taskArithmeticChunk(widen(c.base), c.tasks.map(widen), c.numel, l);
const twinTies = (c: ChunkInput, th: Float32Array, l: number) =>
  twin.tiesChunk(widen(c.base), c.tasks.map(widen), c.numel, th, l);
const twinHistogram = (c: ChunkInput, level: 0 | 1, prefix: Uint32Array | undefined, counts: Uint32Array) =>
  twin.absHistogramChunk(widen(c.base), c.tasks.map(widen), c.numel, level, prefix, counts);

// ---- the suite ----

export function engineSuite(label: string, make: EngineFactory): void {
  /** Runs `body` with a fresh engine, disposed after. */
  const using =
    (body: (e: MergeEngine) => Promise<void>, limits?: EngineLimits) => async (): Promise<void> => {
      const e = await make(limits);
      try {
        await body(e);
      } finally {
        e.dispose();
      }
    };

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
