// The engine suite's harness: the engine factory and the runner that disposes each engine, the CPU
// twins over raw chunks, and the assertions that hold an engine to them and to the reference.
import { expect } from 'vitest';
import { narrowFromF32, type MergeDType } from '../../formats/dtype';
import { tensorName } from '../../formats/tensor';
import * as twin from '../cpu/kernels';
import type { ChunkInput, EmrChunkOut, MergeEngine, RawChunk } from '../engine';
import type { EmrResult } from '../merge-result';
import { referenceEmr } from '../reference';
import { referenceInput, unpackMask, widen, type Layer } from './engine-suite-inputs';

/** Device limits a test forces down to drive tiling; engines without such limits ignore them. */
export interface EngineLimits {
  readonly maxStorageBufferBindingSize?: number;
  readonly maxComputeWorkgroupsPerDimension?: number;
}

export type EngineFactory = (limits?: EngineLimits) => MergeEngine | Promise<MergeEngine>;

/** Wraps a test body: runs it with a fresh engine (made under `limits`), disposed after. */
export type UseEngine = (
  body: (e: MergeEngine) => Promise<void>,
  limits?: EngineLimits,
) => () => Promise<void>;

export const engineRunner =
  (make: EngineFactory): UseEngine =>
  (body, limits) =>
  async (): Promise<void> => {
    const e = await make(limits);
    try {
      await body(e);
    } finally {
      e.dispose();
    }
  };

// ---- assertions ----

/** f32 bit patterns: τ_uni's sign (−0 where −1 was elected over nothing) and NaN are compared too. */
export const bits = (v: Float32Array) => Array.from(new Uint32Array(v.slice().buffer));

export const relClose = (got: number, want: number, rel: number) => {
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
export const firstDifference = (a: Uint32Array, b: Uint32Array) =>
  a.length === b.length ? a.findIndex((x, i) => x !== b[i]) : Math.min(a.length, b.length);

// ---- the CPU twins over raw chunks ----
export const twinEmr = (c: ChunkInput) => twin.emrChunk(widen(c.base), c.tasks.map(widen), c.numel);
export const twinReconstruct = (
  base: RawChunk,
  tau: Float32Array,
  mask: Uint32Array,
  offset: number,
  lambda: number,
  dtype: MergeDType,
) => narrowFromF32(twin.emrReconstruct(widen(base), tau, mask, offset, lambda), dtype);
export const twinAverage = (c: ChunkInput) => twin.averageChunk(c.tasks.map(widen), c.numel);
// NaN/±∞ per model ([base, task 0, …]) from the stored bits: no widening, no kernel code.
export const directNonFinite = (c: ChunkInput): number[] =>
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
export const twinTa = (c: ChunkInput, l: number) =>
  twin.taskArithmeticChunk(widen(c.base), c.tasks.map(widen), c.numel, l);
export const twinTies = (c: ChunkInput, th: Float32Array, l: number) =>
  twin.tiesChunk(widen(c.base), c.tasks.map(widen), c.numel, th, l);
export const twinHistogram = (
  c: ChunkInput,
  level: 0 | 1,
  prefix: Uint32Array | undefined,
  counts: Uint32Array,
) => twin.absHistogramChunk(widen(c.base), c.tasks.map(widen), c.numel, level, prefix, counts);
