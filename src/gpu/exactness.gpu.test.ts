// Plan: the GPU engine equals the CPU engine bit for bit where a device's f32 arithmetic would
// otherwise tell them apart, in dawn.node and in Chromium. SwiftShader flushes subnormals (and a
// device may also fold NaN and ±∞ away), so chunks holding such values — or tiny or huge ones that
// would make them — must come out as the CPU twin's: subnormal, tiny, huge, NaN and ±∞ inputs in
// the base and in a task, in f32, f16 and bf16, for every kernel, also in one tile of a chunk
// tiled past a (forced small) binding; λ and TIES thresholds out of the exact range. Products
// whose fused multiply-add would round differently are counted, so the bit-for-bit checks of
// reconstruction, Task Arithmetic and TIES prove the product is not fused. Then whole merges of
// f16 and bf16 sets with such values in one tensor: masks, τ_uni, merged values and TIES
// thresholds identical, λ within 1e-6.
import { describe, expect, it, vi } from 'vitest';
import { narrowFromF32, type MergeDType } from '../formats/dtype';
import { CpuEngine } from '../merge/cpu/engine';
import type { ChunkInput, EmrChunkOut, MergeEngine, RawChunk } from '../merge/engine';
import { runMerge, type EmrResult, type MergedResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { GpuEngine } from './engine';
import { testGpu, withLimits } from './testing/gpu';

const cpu = new CpuEngine();

let seed = 12345;
function random(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
}

const raw = (values: Float32Array, dtype: MergeDType): RawChunk => ({
  bytes: narrowFromF32(values, dtype),
  dtype,
});
const bits = (values: Float32Array) =>
  Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

/**
 * Base + N tasks of n elements near 1 with small τ; `odd` makes element `at` zero everywhere but for
 * `value` in the base or in task 1, so that the value itself is τ there (a flushed one would show).
 */
function chunk(
  n: number,
  numTasks: number,
  dtype: MergeDType,
  odd?: { value: number; in: 'base' | 'task'; at: number },
): ChunkInput {
  const base = Float32Array.from({ length: n }, () => 1 + random());
  const tasks = Array.from({ length: numTasks }, () => base.map((b) => b + random() * 0.01));
  if (odd) {
    for (const v of [base, ...tasks]) v[odd.at] = 0;
    (odd.in === 'base' ? base : (tasks[1] as Float32Array))[odd.at] = odd.value;
  }
  return { numel: n, base: raw(base, dtype), tasks: tasks.map((t) => raw(t, dtype)) };
}

/** The rescalers' sums: f32 partials (32 serial adds per mask word) added in f64 (the bound allows a 64-wide tree too). */
function expectCloseSums(got: Float64Array, want: Float64Array): void {
  want.forEach((x, t) => {
    const g = got[t] as number;
    if (!Number.isFinite(x)) expect(g).toBe(x);
    else expect(Math.abs(g - x)).toBeLessThanOrEqual((32 + 6) * 2 ** -24 * Math.abs(x));
  });
}

/** Every kernel's output for one chunk; reconstruction (in the base's dtype) from the CPU twin's τ_uni and masks. */
async function outputs(engine: MergeEngine, c: ChunkInput, reference: EmrChunkOut) {
  const numTasks = c.tasks.length;
  const histogram = new Uint32Array(numTasks * 65536);
  await engine.absHistogram(c, 0, undefined, histogram);
  const ties = await engine.ties(c, new Float32Array(numTasks).fill(0.002), 1);
  const [emr, average, taskArithmetic] = [
    await engine.emr(c),
    await engine.average(c),
    await engine.taskArithmetic(c, 0.3),
  ];
  return {
    emr,
    reconstructed: Array.from(
      await engine.emrReconstruct(c.base, reference.tauUni, reference.masks, 0, 1.25, c.base.dtype),
    ),
    average: bits(average.merged),
    taskArithmetic: bits(taskArithmetic.merged),
    histogram,
    ties: { merged: bits(ties.merged), signSum: ties.signSum, pending: ties.pending },
    // NaN/±∞ read, per model, by each merging pass
    nonFinite: [emr, average, taskArithmetic, ties].map((r) => Array.from(r.nonFinite)),
  };
}

const CPU_METHODS = ['emr', 'emrReconstruct', 'average', 'taskArithmetic', 'absHistogram', 'ties'] as const;

/**
 * The GPU engine's outputs equal the CPU twin's, and the CPU twin was asked for exactly the tiles
 * of `onCpu.tiles` elements (none: all of it ran on the GPU) — but averaging, which never reads
 * the base, when the odd values are `inBaseOnly` and finite (a NaN/±∞ base is counted by the
 * CPU twin) — and for the reconstruction (never tiled) if
 * `onCpu.reconstruct`.
 */
async function expectSameEverywhere(
  gpu: MergeEngine,
  c: ChunkInput,
  onCpu: { tiles: number[]; reconstruct: boolean; inBaseOnly?: boolean } = { tiles: [], reconstruct: false },
): Promise<void> {
  const reference = await cpu.emr(c);
  const spies = CPU_METHODS.map((m) => vi.spyOn(CpuEngine.prototype, m));
  const g = await outputs(gpu, c, reference);
  const asked = spies.map((spy) => spy.mock.calls.map(([first]) => ('numel' in first ? first.numel : 'all')));
  for (const spy of spies) spy.mockRestore();
  const expected = (method: (typeof CPU_METHODS)[number]) => {
    if (method === 'emrReconstruct') return onCpu.reconstruct ? ['all'] : [];
    if (method === 'average' && onCpu.inBaseOnly) return [];
    return onCpu.tiles;
  };
  expect(asked).toEqual(CPU_METHODS.map(expected));
  const k = await outputs(cpu, c, reference);
  expect(bits(g.emr.tauUni)).toEqual(bits(k.emr.tauUni));
  expect(Array.from(g.emr.masks)).toEqual(Array.from(k.emr.masks));
  expect(g.emr.conflicts).toBe(k.emr.conflicts);
  expectCloseSums(g.emr.sumAbsTau, k.emr.sumAbsTau);
  expectCloseSums(g.emr.sumAbsMasked, k.emr.sumAbsMasked);
  expect(g.reconstructed).toEqual(k.reconstructed);
  expect(g.average).toEqual(k.average);
  expect(g.taskArithmetic).toEqual(k.taskArithmetic);
  expect(g.histogram.findIndex((x, i) => x !== k.histogram[i])).toBe(-1);
  expect(g.ties).toEqual(k.ties);
  expect(g.nonFinite).toEqual(k.nonFinite);
}

describe('values a device may flush or fold: every kernel equals the CPU twin', () => {
  // [name, value, whether τ_uni = value (task 1's τ) is outside reconstruction's range too]
  const odd: [string, number, boolean][] = [
    ['subnormal', 1e-40, true],
    ['negative subnormal', -3e-42, true],
    ['tiny', 2 ** -70, false],
    ['huge', 2 ** 70, false],
    ['NaN', Number.NaN, false], // the sum is NaN: s = −1 and no task agrees, τ_uni = −0
    ['+∞', Infinity, true],
    ['−∞', -Infinity, true],
  ];
  for (const [name, value, tauOutOfRange] of odd) {
    for (const where of ['base', 'task'] as const) {
      it(`${name} in the ${where}, F32`, async () => {
        const gpu = new GpuEngine(await testGpu());
        await expectSameEverywhere(gpu, chunk(97, 3, 'F32', { value, in: where, at: 40 }), {
          tiles: [97],
          reconstruct: where === 'base' || tauOutOfRange,
          inBaseOnly: where === 'base' && Number.isFinite(value),
        });
      });
    }
  }

  it('±0 in base and tasks stay on the GPU and keep their signs', async () => {
    const gpu = new GpuEngine(await testGpu());
    const values = (v: number[]) => raw(new Float32Array(v), 'F32');
    await expectSameEverywhere(gpu, {
      numel: 5,
      base: values([0, -0, 0, -0, 1]),
      tasks: [values([-0, 0, -0, -0, 1]), values([-0, -0, 0, -0, 1])],
    });
  });

  it('subnormal bf16 (f32 exponent range, so a subnormal survives narrowing)', async () => {
    const gpu = new GpuEngine(await testGpu());
    const c = chunk(65, 2, 'BF16', { value: 1e-39, in: 'task', at: 33 });
    await expectSameEverywhere(gpu, c, { tiles: [65], reconstruct: true });
  });

  it('f16 subnormal (its τ_uni is a normal f32) and f16 ∞ in the base', async () => {
    const gpu = new GpuEngine(await testGpu());
    const subnormal = chunk(65, 2, 'F16', { value: 3e-6, in: 'task', at: 1 });
    await expectSameEverywhere(gpu, subnormal, { tiles: [65], reconstruct: false });
    const infinite = chunk(65, 2, 'F16', { value: 1e5, in: 'base', at: 64 });
    await expectSameEverywhere(gpu, infinite, { tiles: [65], reconstruct: true });
    const counted = await gpu.average(infinite);
    expect(Array.from(counted.nonFinite)).toEqual([1, 0, 0]);
  });

  it('only the tile holding the odd value goes to the CPU; the others stay on the GPU', async () => {
    const gpu = new GpuEngine(withLimits(await testGpu(), { maxStorageBufferBindingSize: 3 * 4 * 64 }));
    const c = chunk(300, 3, 'F32', { value: 1e-40, in: 'task', at: 150 }); // tile [128, 192)
    await expectSameEverywhere(gpu, c, { tiles: [64], reconstruct: true });
  });

  it('a chunk in range never reaches the CPU twin', async () => {
    const gpu = new GpuEngine(await testGpu());
    await expectSameEverywhere(gpu, chunk(4099, 8, 'BF16'));
  });

  it('an f32 τ_uni that is subnormal, tiny or huge in reconstruction', async () => {
    const gpu = new GpuEngine(await testGpu());
    const base = raw(
      Float32Array.from({ length: 64 }, () => 1 + random()),
      'F32',
    );
    const mask = new Uint32Array([0xffffffff, 0xffffffff]);
    for (const odd of [1e-40, 2 ** -110, 2 ** 110]) {
      const tau = Float32Array.from({ length: 64 }, () => random() * 0.01);
      tau[7] = odd;
      expect(await gpu.emrReconstruct(base, tau, mask, 0, 1.5, 'F32')).toEqual(
        await cpu.emrReconstruct(base, tau, mask, 0, 1.5, 'F32'),
      );
    }
  });

  it('λ outside [2^-20, 2^20] and TIES thresholds that are subnormal or NaN', async () => {
    const gpu = new GpuEngine(await testGpu());
    const c = chunk(65, 3, 'F32');
    const r = await cpu.emr(c);
    for (const lambda of [1e-7, 2 ** 21, -(2 ** 25), Number.NaN]) {
      expect(await gpu.emrReconstruct(c.base, r.tauUni, r.masks, 0, lambda, 'F32')).toEqual(
        await cpu.emrReconstruct(c.base, r.tauUni, r.masks, 0, lambda, 'F32'),
      );
      expect(bits((await gpu.taskArithmetic(c, lambda)).merged)).toEqual(
        bits((await cpu.taskArithmetic(c, lambda)).merged),
      );
    }
    for (const threshold of [1e-40, Number.NaN]) {
      const thresholds = new Float32Array([0.002, threshold, 0.002]);
      const [g, k] = [await gpu.ties(c, thresholds, 1), await cpu.ties(c, thresholds, 1)];
      expect(bits(g.merged)).toEqual(bits(k.merged));
      expect(g.pending).toEqual(k.pending);
    }
  });
});

/**
 * fma(λ, x, b) differs from b + round(λ·x). The f64 product of two f32 is exact, so b + λ·x in f64
 * rounded to f32 is the fused result but for a double rounding on an exact f32 midpoint (rare, and
 * this only counts the cases, to show the data has them).
 */
function fusedDiffers(lambda: number, x: number, b: number): boolean {
  return Math.fround(b + lambda * x) !== Math.fround(b + Math.fround(lambda * x));
}

describe('products whose fused multiply-add would round differently', () => {
  it('reconstruction, Task Arithmetic and TIES round them as the CPU twin', async () => {
    const gpu = new GpuEngine(await testGpu());
    const c = chunk(4099, 2, 'F32');
    const r = await cpu.emr(c);
    const base = new Float32Array(c.base.bytes.buffer, c.base.bytes.byteOffset, c.numel);
    const lambda = Math.fround(1.37);
    const sensitive = base.filter((b, i) => fusedDiffers(lambda, r.tauUni[i] as number, b)).length;
    expect(sensitive).toBeGreaterThan(20);
    const all = new Uint32Array(2 * Math.ceil(c.numel / 32)).fill(0xffffffff);
    expect(await gpu.emrReconstruct(c.base, r.tauUni, all, 0, lambda, 'F32')).toEqual(
      await cpu.emrReconstruct(c.base, r.tauUni, all, 0, lambda, 'F32'),
    );
    expect(bits((await gpu.taskArithmetic(c, lambda)).merged)).toEqual(
      bits((await cpu.taskArithmetic(c, lambda)).merged),
    );
    const thresholds = new Float32Array([0, 0]);
    expect(bits((await gpu.ties(c, thresholds, lambda)).merged)).toEqual(
      bits((await cpu.ties(c, thresholds, lambda)).merged),
    );
  });
});

describe('whole merges with odd values in one tensor: GPU engine vs CPU engine', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype}, N=3, every method, tensors over several chunks`, async () => {
      const gpu = new GpuEngine(await testGpu());
      const shapes = [[33, 7], [1000], [5]];
      const baseValues = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b) }, random));
      const taskValues = [0, 1, 2].map(() => baseValues.map((b) => b.map((x) => x + random() * 0.05)));
      // one subnormal τ (an f16 subnormal input for F16): that chunk goes to the CPU, the others not
      for (const v of [baseValues, ...taskValues]) (v[1] as Float32Array)[500] = 0;
      ((taskValues[2] as Float32Array[])[1] as Float32Array)[500] = dtype === 'F16' ? 1e-6 : 1e-39;
      const tensors = (values: Float32Array[]) =>
        shapes.map((shape, i) => ({ name: `w${i}`, dtype, shape, values: values[i] as Float32Array }));
      const set = buildModelSet(
        memoryCheckpoint('base', tensors(baseValues)),
        taskValues.map((v, t) => ({ name: `t${t}`, checkpoint: memoryCheckpoint(`t${t}`, tensors(v)) })),
      );
      const opts = { budgetBytes: 16 * 1024 };
      const [g, k] = (await Promise.all([
        runMerge(set, methodSpec('emr'), gpu, opts),
        runMerge(set, methodSpec('emr'), cpu, opts),
      ])) as [EmrResult, EmrResult];
      for (const s of set.shared) {
        expect(Array.from(g.masks.get(s.name) as Uint32Array)).toEqual(
          Array.from(k.masks.get(s.name) as Uint32Array),
        );
        expect(bits(g.tauUni.get(s.name) as Float32Array)).toEqual(
          bits(k.tauUni.get(s.name) as Float32Array),
        );
      }
      g.lambdas.forEach((l, t) => expect(Math.abs(l / (k.lambdas[t] as number) - 1)).toBeLessThan(1e-6));
      for (const spec of [methodSpec('avg'), methodSpec('ta'), methodSpec('ties')]) {
        const [gm, km] = (await Promise.all([
          runMerge(set, spec, gpu, opts),
          runMerge(set, spec, cpu, opts),
        ])) as [MergedResult, MergedResult];
        for (const s of set.shared)
          expect(bits(gm.merged.get(s.name) as Float32Array)).toEqual(
            bits(km.merged.get(s.name) as Float32Array),
          );
        expect(gm.ties).toEqual(km.ties);
      }
    });
  }
});
