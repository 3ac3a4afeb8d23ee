// Plan: the CPU engine on worker threads gives the single-threaded engine's results bit for bit —
// every method, chunks split across workers at 32-element boundaries (odd sizes included), and
// small chunks kept local. The engine suite's reference tests then hold for it too. The calling
// thread keeps to the JavaScript kernels here so that every chunk goes to the workers (which run the
// WebAssembly SIMD kernels); with SIMD on the calling thread, EMR stays there.
import { afterAll, describe, expect, it } from 'vitest';
import { narrowFromF32 } from '../../formats/dtype';
import type { ChunkInput } from '../engine';
import { CpuEngine } from './engine';
import { createNodeCpuEngine } from './node-engine';
import { MIN_PARALLEL_ELEMENTS, splitRanges } from './parallel';

const parallel = createNodeCpuEngine(2, { wasm: false });
const simd = createNodeCpuEngine(2);
const single = new CpuEngine({ wasm: false });
afterAll(() => {
  parallel.dispose();
  simd.dispose();
});

/**
 * Where two results differ, or undefined: typed arrays compared as bytes (vitest's deep equality
 * walks 200 000 elements one by one, tens of seconds on a loaded machine), objects field by field.
 */
function firstDifference(a: unknown, b: unknown, path = 'result'): string | undefined {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return a.constructor === b.constructor && bytes(a).equals(bytes(b)) ? undefined : `${path} differs`;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${String(a)} ≠ ${String(b)}`;
}
const expectSame = (a: unknown, b: unknown) => expect(firstDifference(a, b)).toBeUndefined();

function chunk(numel: number, numTasks: number, seed: number): ChunkInput {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const base = Float32Array.from({ length: numel }, rnd);
  const raw = (v: Float32Array) => ({ bytes: narrowFromF32(v, 'F32').slice(), dtype: 'F32' as const });
  return {
    numel,
    base: raw(base),
    tasks: Array.from({ length: numTasks }, () => raw(base.map((b) => b + rnd() * 0.01 * +(rnd() > -0.8)))),
  };
}

describe('ParallelCpuEngine', () => {
  it('splits at multiples of 32', () => {
    expect(splitRanges(100, 2)).toEqual([
      { start: 0, numel: 64 },
      { start: 64, numel: 36 },
    ]);
    expect(splitRanges(65, 3).map((r) => r.start % 32)).toEqual([0, 0, 0]);
  });

  for (const numel of [MIN_PARALLEL_ELEMENTS - 1, MIN_PARALLEL_ELEMENTS + 33, 200_003]) {
    it(`equals the single-threaded engine (${numel} elements)`, async () => {
      const c = chunk(numel, 5, numel);
      expectSame(await parallel.emr(c), await single.emr(c));
      expectSame(await simd.emr(c), await single.emr(c));
      expectSame(await parallel.average(c), await single.average(c));
      expectSame(await parallel.taskArithmetic(c, 0.3), await single.taskArithmetic(c, 0.3));
      const thresholds = new Float32Array([0.001, 0.002, 0.003, 0.004, 0.005]);
      expectSame(await parallel.ties(c, thresholds, 1), await single.ties(c, thresholds, 1));
      const [a, b] = [new Uint32Array(5 * 65536), new Uint32Array(5 * 65536)];
      await parallel.absHistogram(c, 0, undefined, a);
      await single.absHistogram(c, 0, undefined, b);
      expectSame(a, b);
      const r = await single.emr(c);
      const words = Math.ceil(numel / 32);
      for (const dtype of ['F32', 'BF16'] as const) {
        const expected = await single.emrReconstruct(c.base, r.tauUni, r.masks, 2 * words, 0.7, dtype);
        expectSame(await parallel.emrReconstruct(c.base, r.tauUni, r.masks, 2 * words, 0.7, dtype), expected);
        expectSame(await simd.emrReconstruct(c.base, r.tauUni, r.masks, 2 * words, 0.7, dtype), expected);
      }
    }, 30_000);
  }
});
