// Plan: base + bundle rebuild every task's model byte for byte as the merge wrote it (f32 and
// bf16 sets, heads of different shapes, with and without task-specific tensors in the bundle,
// property-based over random sets); the bundle's masks are one bit per element; a wrong base or a
// file that is not a bundle is refused by name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { bytesSource } from '../formats/source';
import { tensorName } from '../formats/tensor';
import { BundleError, bundleFileBytes, maskKey, openBundle, writeBundle } from './bundle';
import { CpuEngine } from './cpu/engine';
import { runMerge, type EmrResult } from './merge';
import { methodSpec } from './methods';
import { buildModelSet } from './model-set';
import { collectBytes, taskModel } from './task-model';
import { memoryCheckpoint, type MemoryTensor } from './testing/memory-checkpoint';

const engine = new CpuEngine();

function randomSet(seed: number, numTasks: number, numel: number, dtype: 'F32' | 'BF16' = 'F32') {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const base0 = Float32Array.from({ length: numel }, rnd);
  const base1 = Float32Array.from({ length: 6 }, rnd);
  const base: MemoryTensor[] = [
    { name: 'blocks.0.w', dtype, shape: [numel], values: base0 },
    { name: 'norm.b', dtype: 'F32', shape: [6], values: base1 },
    { name: 'head.weight', dtype: 'F32', shape: [4, 2], values: new Float32Array(8) },
  ];
  const tasks = Array.from({ length: numTasks }, (_, t) => {
    const tensors: MemoryTensor[] = [
      {
        name: 'head.weight',
        dtype: 'F32',
        shape: [t + 2, 2],
        values: Float32Array.from({ length: (t + 2) * 2 }, rnd),
      },
      { name: 'blocks.0.w', dtype, shape: [numel], values: base0.map((x) => x + rnd() * 0.01) },
      { name: 'norm.b', dtype: 'F32', shape: [6], values: base1.map((x) => x + rnd() * 0.01) },
    ];
    return { name: `t${t}`, checkpoint: memoryCheckpoint(`t${t}.safetensors`, tensors) };
  });
  return buildModelSet(memoryCheckpoint('base.safetensors', base), tasks);
}

async function modelBytes(result: EmrResult, t: number): Promise<number[][]> {
  return Promise.all(taskModel(result, t, engine).map(async (x) => Array.from(await collectBytes(x))));
}

async function roundTrip(result: EmrResult, includeTaskSpecific = true) {
  const sink = new MemorySink('bundle.safetensors');
  const size = await writeBundle(result, sink, { includeTaskSpecific });
  const bundle = await openSafetensors(bytesSource(sink.bytes(), 'bundle.safetensors'));
  // The size reported (and computed before writing) is the file's: header, manifest and padding.
  expect(size.bundleBytes).toBe(sink.bytes().byteLength);
  expect(bundleFileBytes(result, { includeTaskSpecific })).toBe(sink.bytes().byteLength);
  return { bundle, size };
}

describe('EMR bundle', () => {
  for (const dtype of ['F32', 'BF16'] as const) {
    it(`base + bundle rebuild every task exactly (${dtype})`, async () => {
      const set = randomSet(1, 3, 77, dtype);
      const result = (await runMerge(set, methodSpec('emr'), engine)) as EmrResult;
      const { bundle, size } = await roundTrip(result);
      const rebuilt = await openBundle(bundle, set.base);
      expect(rebuilt.lambdas).toEqual(result.lambdas);
      for (let t = 0; t < 3; t++) {
        expect(await modelBytes(rebuilt, t)).toEqual(await modelBytes(result, t));
        expect(taskModel(rebuilt, t, engine).map((x) => [x.name, x.dtype, x.shape])).toEqual(
          taskModel(result, t, engine).map((x) => [x.name, x.dtype, x.shape]),
        );
      }
      // τ_uni in f32 + 3 masks of ⌈77/8⌉ + ⌈6/8⌉ bytes + the heads, after the header (padded to 8)
      const data = (77 + 6) * 4 + 3 * (10 + 1) + (2 + 3 + 4) * 2 * 4;
      expect(size.bundleBytes).toBeGreaterThan(data + 8);
      expect((size.bundleBytes - data) % 8).toBe(0);
      expect(bundle.tensors.get(tensorName(maskKey('t0', 'blocks.0.w')))?.byteLength).toBe(10);
    });
  }

  it('without task-specific tensors, they come from the tasks’ own files', async () => {
    const set = randomSet(2, 2, 40);
    const result = (await runMerge(set, methodSpec('emr'), engine)) as EmrResult;
    const { bundle } = await roundTrip(result, false);
    await expect(openBundle(bundle, set.base)).rejects.toThrow(/give that task's own file/);
    const files = new Map(set.tasks.map((t) => [t.name, t.checkpoint]));
    const rebuilt = await openBundle(bundle, set.base, files);
    expect(await modelBytes(rebuilt, 1)).toEqual(await modelBytes(result, 1));
  });

  it('round-trips random sets (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 100 }),
        async (seed, n, numel) => {
          const set = randomSet(seed, n, numel);
          const result = (await runMerge(
            set,
            methodSpec('emr', { rescale: seed % 2 ? 'global' : 'tensor-mean' }),
            engine,
            { budgetBytes: 1 },
          )) as EmrResult;
          const rebuilt = await openBundle((await roundTrip(result)).bundle, set.base);
          expect(await modelBytes(rebuilt, n - 1)).toEqual(await modelBytes(result, n - 1));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses another base and a file that is not a bundle', async () => {
    const set = randomSet(3, 2, 16);
    const result = (await runMerge(set, methodSpec('emr'), engine)) as EmrResult;
    const { bundle } = await roundTrip(result);
    const other = memoryCheckpoint('other-base.safetensors', [
      { name: 'blocks.0.w', dtype: 'F32', shape: [17], values: new Float32Array(17) },
    ]);
    await expect(openBundle(bundle, other)).rejects.toThrow(
      /other-base.safetensors: not the base this bundle was made from — tensor blocks.0.w/,
    );
    await expect(openBundle(set.base, set.base)).rejects.toThrow(BundleError);
  });
});
