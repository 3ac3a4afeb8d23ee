// Plan: the streaming merge (CPU engine, budgets small enough to split tensors into many chunks)
// equals the naive whole-tensor reference for every method, bit for bit for values and masks and
// within f64 rounding for λ; hand-checked cases pin DESIGN.md's semantics (a zero mean elects −1,
// strict masks, max over agreeing tasks, λ as a ratio of sums of per-tensor means, λ = 1 when the
// denominator is 0); property tests hold the invariants on random sets; N runs 2 … 30.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f32ToBf16Bits, narrowFromF32, widenToF32, type MergeDType } from '../formats/dtype';
import { tensorName } from '../formats/tensor';
import { CpuEngine } from './cpu/engine';
import { maskWords } from './cpu/kernels';
import { isEmr, runMerge, type EmrResult, type MergedResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet, type ModelSet } from './model-set';
import {
  referenceAverage,
  referenceEmr,
  referenceEmrTask,
  referenceTaskArithmetic,
  referenceTies,
  type ReferenceInput,
} from './reference';
import { chunkElements } from './scheduler';
import { collectBytes, taskModel } from './task-model';
import { memoryCheckpoint, type MemoryTensor } from './testing/memory-checkpoint';

const engine = new CpuEngine();

interface Layer {
  name: string;
  shape: number[];
  base: Float32Array;
  tasks: Float32Array[];
}

function makeSet(
  layers: Layer[],
  numTasks: number,
  opts: { dtype?: MergeDType; heads?: boolean } = {},
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
  return buildModelSet(memoryCheckpoint('base.safetensors', base), tasks);
}

/** Values as the stored dtype gives them back (the reference sees what the engine reads). */
function stored(values: Float32Array, dtype: MergeDType): Float32Array {
  return widenToF32(narrowFromF32(values, dtype), dtype);
}

function referenceInput(layers: Layer[], dtype: MergeDType = 'F32'): ReferenceInput {
  return {
    tensors: layers.map((l) => ({
      base: stored(l.base, dtype),
      tasks: l.tasks.map((t) => stored(t, dtype)),
    })),
  };
}

function unpackMask(words: Uint32Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((words[offset + (i >>> 5)] as number) >>> (i & 31)) & 1;
  return out;
}

function expectEmrEqualsReference(result: EmrResult, layers: Layer[], dtype: MergeDType = 'F32'): void {
  const ref = referenceEmr(referenceInput(layers, dtype), result.spec.rescale);
  layers.forEach((l, li) => {
    const numel = l.base.length;
    expect(Array.from(result.tauUni.get(tensorName(l.name)) as Float32Array)).toEqual(
      Array.from(ref.tauUni[li] as Float32Array),
    );
    const masks = result.masks.get(tensorName(l.name)) as Uint32Array;
    l.tasks.forEach((_, t) => {
      expect(Array.from(unpackMask(masks, t * maskWords(numel), numel))).toEqual(
        Array.from(ref.masks[li]?.[t] as Uint8Array),
      );
    });
  });
  result.lambdas.forEach((lam, t) => expect(lam).toBeCloseTo(ref.lambdas[t] as number, 9));
}

/** Random layers: task vectors small next to the weights, with exact ties and zeros mixed in. */
function randomLayers(seed: number, numTasks: number, shapes: number[][]): Layer[] {
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

describe('EMR semantics, hand-checked', () => {
  it('a zero mean elects −1; masks are strict; ε is the max over agreeing tasks', async () => {
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
    const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    expect(Array.from(r.tauUni.get(tensorName('w')) as Float32Array)).toEqual([-1, -0, 3, 4]);
    const m = r.masks.get(tensorName('w')) as Uint32Array;
    expect(Array.from(unpackMask(m, 0, 4))).toEqual([0, 0, 1, 0]);
    expect(Array.from(unpackMask(m, 1, 4))).toEqual([1, 0, 1, 1]);
    // λ_0 = mean|τ_0| / mean|M_0⊙τ_uni| = (4/4) / (3/4); λ_1 = (8/4) / (8/4)
    expect(r.lambdas[0]).toBeCloseTo(4 / 3, 12);
    expect(r.lambdas[1]).toBeCloseTo(1, 12);
    expect(r.tensors[0]?.conflicts).toBe(2);
    expect(r.tasks.map((t) => t.density)).toEqual([0.25, 0.75]);
  });

  it('a zero τ is not a disagreeing sign: conflicts need one task above and one below zero', async () => {
    // element 0: τ = (−1, 0) → s = −1, no conflict; element 1: τ = (−1, +0.5) → conflict
    const layers: Layer[] = [
      {
        name: 'w',
        shape: [2],
        base: new Float32Array(2),
        tasks: [new Float32Array([-1, -1]), new Float32Array([0, 0.5])],
      },
    ];
    const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    expect(r.tensors[0]?.conflicts).toBe(1);
  });

  it('a positive sum whose f32 mean underflows to 0 elects −1, like the mean itself', async () => {
    const tiny = 2 ** -149; // the smallest subnormal: (tiny + 0) / 2 rounds to 0
    const layers: Layer[] = [
      {
        name: 'w',
        shape: [2],
        base: new Float32Array(2),
        tasks: [new Float32Array([tiny, 2 * tiny]), new Float32Array([0, 2 * tiny])],
      },
    ];
    const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    expect(Array.from(r.tauUni.get(tensorName('w')) as Float32Array)).toEqual([-0, 2 * tiny]);
    expectEmrEqualsReference(r, layers);
  });

  it('λ is a ratio of sums of per-tensor means, not one global mean', async () => {
    // Tensor a (2 elements): τ_0 = (1, 0), τ_1 = (1, 0) → τ_uni = (1, 0), both masks (1, 0).
    // Tensor b (4 elements): τ_0 = (2, 2, 2, 2), τ_1 = (−1, −1, −1, −1) → mean 0.5 → s = +1, ε = 2.
    const layers: Layer[] = [
      {
        name: 'a',
        shape: [2],
        base: new Float32Array(2),
        tasks: [new Float32Array([1, 0]), new Float32Array([1, 0])],
      },
      {
        name: 'b',
        shape: [4],
        base: new Float32Array(4),
        tasks: [new Float32Array(4).fill(2), new Float32Array(4).fill(-1)],
      },
    ];
    const per = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    // task 0: (0.5 + 2) / (0.5 + 2) = 1; task 1: (0.5 + 1) / (0.5 + 0) = 3
    expect(per.lambdas[0]).toBeCloseTo(1, 12);
    expect(per.lambdas[1]).toBeCloseTo(3, 12);
    expect(per.tasks[1]?.numerator).toBeCloseTo(1.5, 12);
    const global = (await runMerge(
      makeSet(layers, 2),
      methodSpec('emr', { rescale: 'global' }),
      engine,
    )) as EmrResult;
    // task 1 global: Σ|τ| = 1 + 4 = 5 over Σ|M⊙τ_uni| = 1 → 5
    expect(global.lambdas[1]).toBeCloseTo(5, 12);
  });

  it('λ = 1 and says so when no mask bit is on', async () => {
    // τ_0 = −1 everywhere, τ_1 = +3 everywhere: s = +1, task 0 never agrees.
    const layers: Layer[] = [
      {
        name: 'w',
        shape: [3],
        base: new Float32Array(3),
        tasks: [new Float32Array(3).fill(-1), new Float32Array(3).fill(3)],
      },
    ];
    const r = (await runMerge(makeSet(layers, 2), methodSpec('emr'), engine)) as EmrResult;
    expect(r.lambdas[0]).toBe(1);
    expect(r.tasks[0]?.lambdaDefaulted).toBe(true);
    expect(r.tasks[1]?.lambdaDefaulted).toBe(false);
  });

  it('a single-element tensor and all-zero task vectors', async () => {
    const layers: Layer[] = [
      {
        name: 'one',
        shape: [1],
        base: new Float32Array([5]),
        tasks: [new Float32Array([5]), new Float32Array([5]), new Float32Array([5])],
      },
      {
        name: 'zero',
        shape: [2, 3],
        base: new Float32Array(6).fill(2),
        tasks: [0, 1, 2].map(() => new Float32Array(6).fill(2)),
      },
    ];
    const r = (await runMerge(makeSet(layers, 3), methodSpec('emr'), engine)) as EmrResult;
    expect(r.lambdas).toEqual([1, 1, 1]);
    expectEmrEqualsReference(r, layers);
  });

  it('heads of different shape per task pass through from their task', async () => {
    const layers = randomLayers(3, 3, [[5, 7]]);
    const set = makeSet(layers, 3, { heads: true });
    expect(set.report.leftOut.map((l) => [l.name, l.reason])).toEqual([['head.weight', 'shape-mismatch']]);
    const r = await runMerge(set, methodSpec('emr'), engine);
    const model = taskModel(r, 2, engine);
    expect(model.map((t) => t.name)).toEqual(['layers.0.weight', 'head.weight']);
    const head = model[1];
    expect(head?.shape).toEqual([4, 3]);
    expect(
      Array.from(new Float32Array((await collectBytes(head as NonNullable<typeof head>)).buffer)),
    ).toEqual(new Array(12).fill(2));
  });
});

describe('streaming equals the whole-tensor reference', () => {
  const shapes = [[1], [31], [32], [33], [7, 9], [65], [4099], [3, 5, 11]];
  for (const numTasks of [2, 3, 8, 30]) {
    for (const budget of [chunkElements(numTasks, 1), 1 << 20]) {
      it(`EMR, N=${numTasks}, ${budget < 1000 ? 'chunks of 32 elements' : 'whole tensors'}`, async () => {
        const layers = randomLayers(numTasks * 7 + budget, numTasks, shapes);
        const budgetBytes = budget < 1000 ? 1 : 256 * 2 ** 20;
        const r = (await runMerge(makeSet(layers, numTasks), methodSpec('emr'), engine, {
          budgetBytes,
        })) as EmrResult;
        expectEmrEqualsReference(r, layers);
        // every task's reconstructed model equals θ₀ + λ_t·(M_t⊙τ_uni) of the reference
        const ref = referenceEmr(referenceInput(layers));
        for (const t of [0, numTasks - 1]) {
          const model = taskModel(r, t, engine, budgetBytes);
          for (const [li, l] of layers.entries()) {
            const got = new Float32Array((await collectBytes(model[li] as (typeof model)[number])).buffer);
            const want = referenceEmrTask(
              l.base,
              ref.tauUni[li] as Float32Array,
              ref.masks[li]?.[t] as Uint8Array,
              ref.lambdas[t] as number,
            );
            expect(Array.from(got)).toEqual(Array.from(want));
          }
        }
      });
    }
  }

  for (const numTasks of [2, 8]) {
    it(`avg, TA and TIES, N=${numTasks}, chunked`, async () => {
      const layers = randomLayers(numTasks + 100, numTasks, shapes);
      const set = makeSet(layers, numTasks);
      const input = referenceInput(layers);
      const opts = { budgetBytes: 1 };
      const avg = (await runMerge(set, methodSpec('avg'), engine, opts)) as MergedResult;
      const ta = (await runMerge(set, methodSpec('ta', { lambda: 0.3 }), engine, opts)) as MergedResult;
      const ties = (await runMerge(
        set,
        methodSpec('ties', { k: 0.2, lambda: 1 }),
        engine,
        opts,
      )) as MergedResult;
      const refAvg = referenceAverage(input);
      const refTa = referenceTaskArithmetic(input, 0.3);
      const refTies = referenceTies(input, 0.2, 1);
      expect(ties.ties?.thresholds).toEqual(refTies.thresholds);
      layers.forEach((l, li) => {
        const name = tensorName(l.name);
        expect(Array.from(avg.merged.get(name) as Float32Array)).toEqual(
          Array.from(refAvg[li] as Float32Array),
        );
        expect(Array.from(ta.merged.get(name) as Float32Array)).toEqual(
          Array.from(refTa[li] as Float32Array),
        );
        expect(Array.from(ties.merged.get(name) as Float32Array)).toEqual(
          Array.from(refTies.merged[li] as Float32Array),
        );
      });
    });
  }

  it('TIES resolves zero trimmed sums with the model-wide majority sign', async () => {
    // element 0: τ = (+1, −1) sums to 0 with both kept; every other element elects +1 → majority +1
    const base = new Float32Array(5);
    const layers: Layer[] = [
      {
        name: 'w',
        shape: [5],
        base,
        tasks: [new Float32Array([1, 2, 2, 2, 2]), new Float32Array([-1, 2, 2, 2, 2])],
      },
    ];
    const r = (await runMerge(
      makeSet(layers, 2),
      methodSpec('ties', { k: 1, lambda: 1 }),
      engine,
    )) as MergedResult;
    expect(r.ties?.majority).toBe(1);
    expect(Array.from(r.merged.get(tensorName('w')) as Float32Array)).toEqual([1, 2, 2, 2, 2]);
    expect(Array.from(referenceTies(referenceInput(layers), 1, 1).merged[0] as Float32Array)).toEqual([
      1, 2, 2, 2, 2,
    ]);
  });

  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype} inputs are widened, merged in f32, and written back in ${dtype} with round-to-nearest-even`, async () => {
      const layers = randomLayers(dtype === 'F16' ? 5 : 6, 3, [[33], [8, 8]]);
      const set = makeSet(layers, 3, { dtype });
      const r = (await runMerge(set, methodSpec('emr'), engine, { budgetBytes: 1 })) as EmrResult;
      expectEmrEqualsReference(r, layers, dtype);
      const model = taskModel(r, 1, engine);
      expect(model[0]?.dtype).toBe(dtype);
      const ref = referenceEmr(referenceInput(layers, dtype));
      const want = referenceEmrTask(
        stored(layers[0]?.base as Float32Array, dtype),
        ref.tauUni[0] as Float32Array,
        ref.masks[0]?.[1] as Uint8Array,
        ref.lambdas[1] as number,
      );
      const bytes = await collectBytes(model[0] as (typeof model)[number]);
      expect(Array.from(bytes)).toEqual(Array.from(narrowFromF32(want, dtype)));
      if (dtype === 'BF16') expect(bf16BitsToF32(f32ToBf16Bits(1.00390625))).toBe(1); // tie to even
    });
  }
});

describe('invariants (property-based)', () => {
  const layerArb = fc.record({
    numTasks: fc.integer({ min: 2, max: 6 }),
    numel: fc.integer({ min: 1, max: 80 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });

  it('masks only where the task agrees with the elected sign; |τ_uni| ≥ |M_t ⊙ τ_t|', async () => {
    await fc.assert(
      fc.asyncProperty(layerArb, async ({ numTasks, numel, seed }) => {
        const layers = randomLayers(seed, numTasks, [[numel]]);
        const r = (await runMerge(makeSet(layers, numTasks), methodSpec('emr'), engine, {
          budgetBytes: 1,
        })) as EmrResult;
        const uni = r.tauUni.get(tensorName(layers[0]?.name as string)) as Float32Array;
        const masks = r.masks.get(tensorName(layers[0]?.name as string)) as Uint32Array;
        const l = layers[0] as Layer;
        for (let t = 0; t < numTasks; t++) {
          const m = unpackMask(masks, t * maskWords(numel), numel);
          for (let i = 0; i < numel; i++) {
            const tau = Math.fround((l.tasks[t]?.[i] as number) - (l.base[i] as number));
            if (m[i]) {
              expect(Math.sign(tau)).toBe(Math.sign(uni[i] as number));
              expect(Math.abs(uni[i] as number)).toBeGreaterThanOrEqual(Math.abs(tau));
            } else if (uni[i] !== 0) {
              expect(tau * (uni[i] as number) > 0).toBe(false); // a task that agrees is never masked off
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('model set refusals', () => {
  const one = (name: string, shape = [2]) =>
    memoryCheckpoint(name, [
      { name: 'w', dtype: 'F32', shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
    ]);
  it('fewer than two tasks', () => {
    expect(() => buildModelSet(one('b'), [{ name: 'a', checkpoint: one('a') }])).toThrow(
      /at least two tasks/,
    );
  });
  it('duplicate task names', () => {
    expect(() =>
      buildModelSet(one('b'), [
        { name: 'a', checkpoint: one('a') },
        { name: 'a', checkpoint: one('c') },
      ]),
    ).toThrow(/named "a"/);
  });
  it('no shared tensor', () => {
    expect(() =>
      buildModelSet(one('b', [2]), [
        { name: 'x', checkpoint: one('x', [3]) },
        { name: 'y', checkpoint: one('y', [3]) },
      ]),
    ).toThrow(/No tensor is shared/);
  });
  it('reports why each tensor is left out', () => {
    const base = memoryCheckpoint('b', [
      { name: 'w', dtype: 'F32', shape: [2], values: new Float32Array(2) },
      { name: 'ids', dtype: 'I64', shape: [2], values: new Uint8Array(16) },
      { name: 'only-some', dtype: 'F32', shape: [1], values: new Float32Array(1) },
      { name: 'pretext', dtype: 'F32', shape: [1], values: new Float32Array(1) },
    ]);
    const task = (n: string, extra: MemoryTensor[]) =>
      memoryCheckpoint(n, [
        { name: 'w', dtype: 'F32', shape: [2], values: new Float32Array(2) },
        { name: 'ids', dtype: 'I64', shape: [2], values: new Uint8Array(16) },
        ...extra,
      ]);
    const set = buildModelSet(base, [
      {
        name: 'a',
        checkpoint: task('a', [{ name: 'only-some', dtype: 'F32', shape: [1], values: new Float32Array(1) }]),
      },
      {
        name: 'b',
        checkpoint: task('b', [{ name: 'new', dtype: 'F32', shape: [3], values: new Float32Array(3) }]),
      },
    ]);
    expect(set.report.leftOut.map((l) => [l.name, l.reason, l.passThroughTasks])).toEqual([
      ['ids', 'non-float', ['a', 'b']],
      ['only-some', 'missing-in-task', ['a']],
      ['new', 'missing-in-base', ['b']],
    ]);
    expect(set.report.baseOnly).toEqual(['pretext']);
    expect(set.passThrough.map((p) => p.map((e) => e.name))).toEqual([
      ['ids', 'only-some'],
      ['ids', 'new'],
    ]);
  });
});

describe('method parameters', () => {
  it('fills defaults and refuses what a method does not take', () => {
    expect(methodSpec('ta')).toEqual({ method: 'ta', lambda: 0.3 });
    expect(methodSpec('ties')).toEqual({ method: 'ties', k: 0.2, lambda: 1 });
    expect(methodSpec('emr')).toEqual({ method: 'emr', rescale: 'tensor-mean' });
    expect(() => methodSpec('avg', { lambda: 1 })).toThrow(/avg takes no parameter lambda/);
    expect(() => methodSpec('ties', { k: 0 })).toThrow(/k/);
    expect(isEmr({ spec: methodSpec('emr') } as EmrResult)).toBe(true);
  });
});
