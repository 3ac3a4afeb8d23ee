// What the merge programs share: the WGSL prelude (dtype.wgsl, exact.wgsl and MAX_TASKS), a chunk's
// inputs as two bindings (the base's words; the N task chunks packed in one buffer, in their stored
// dtype: the shaders decode f32/f16/bf16), its tiles, and the ranges in which the kernels' results
// equal their CPU twins' (src/merge/cpu/kernels.ts) bit for bit on any device (exact.wgsl).
import dtypeWgsl from '../../../shaders/merge/dtype.wgsl?raw';
import exactWgsl from '../../../shaders/merge/exact.wgsl?raw';
import { dtypeBytes, type MergeDType } from '../../formats/dtype';
import type { CpuEngine } from '../../merge/cpu/engine';
import type { ChunkInput, RawChunk } from '../../merge/engine';
import type { Binding, Upload } from '../runtime/pass';
import type { GpuRuntime } from '../runtime/runtime';
import type { Tile } from '../runtime/tiles';

/** The elect kernel keeps per-task state in private arrays of this size (prepended as its MAX_TASKS). */
export const MAX_GPU_TASKS = 64;

/**
 * Tiles are whole multiples of the elect kernel's span (64-invocation workgroups of 32 elements
 * each), so its per-workgroup partials, added in order in f64, are the same whatever the tiling.
 */
const TILE_UNIT = 64 * 32;

/** What a merge program runs on: the runtime, and the CPU twin it hands what it cannot do exactly. */
export interface MergeContext {
  readonly rt: GpuRuntime;
  readonly twin: CpuEngine;
  /** False turns the subgroups variants off where the device has them (tests, the benchmark). */
  readonly subgroups?: boolean;
}

export const DTYPE_CODE: Record<MergeDType, number> = { F32: 0, F16: 1, BF16: 2 };

/** A merge kernel's whole module: the shared prelude, then the kernel. */
export const mergeShader = (kernel: string) =>
  `const MAX_TASKS: u32 = ${MAX_GPU_TASKS}u;\n` + dtypeWgsl + exactWgsl + kernel;

/** λ the kernels' exact product takes (exact.wgsl): 0 or 2^-20 ≤ |λ| ≤ 2^20 as an f32; else the CPU twin. */
export function lambdaInRange(lambda: number): boolean {
  const l = Math.abs(Math.fround(lambda));
  return l === 0 || (l >= 2 ** -20 && l <= 2 ** 20);
}

/**
 * The kernels read every task chunk in one dtype, and divide by at most MAX_GPU_TASKS (exact.wgsl's
 * div_rn); a chunk mixing dtypes, or with more tasks, goes to the CPU twin.
 */
export function fitsKernels(chunk: ChunkInput): boolean {
  const d = chunk.tasks[0]?.dtype;
  return chunk.tasks.length <= MAX_GPU_TASKS && chunk.tasks.every((t) => t.dtype === d);
}

export const taskDtype = (chunk: ChunkInput): MergeDType => chunk.tasks[0]?.dtype ?? 'F32';

/** The dtype override constants of a kernel that reads a chunk. */
export const dtypeConstants = (chunk: ChunkInput) => ({
  BASE_DTYPE: DTYPE_CODE[chunk.base.dtype],
  TASK_DTYPE: DTYPE_CODE[taskDtype(chunk)],
});

/** `numel` elements of a raw chunk, as stored. */
export const storedBytes = (c: RawChunk, numel: number) => c.bytes.subarray(0, numel * dtypeBytes(c.dtype));

/** Bytes of `numel` elements of `dtype` as whole u32 words (the shaders read words). */
export const wordBytes = (numel: number, dtype: MergeDType) =>
  Math.max(1, Math.ceil((numel * dtypeBytes(dtype)) / 4)) * 4;

/**
 * A chunk's inputs as bindings 1 and 2 (base, tasks), and the task stride in words (task t at
 * t·stride). `wholeMaskWords`: each binding spans whole mask words (32 elements: 16-byte units),
 * for a kernel that reads 32 elements at a time as vec4 loads (the words past numel are not written).
 */
export function chunkInputs(
  chunk: ChunkInput,
  wholeMaskWords = false,
): { base: Binding; tasks: Binding; stride: number } {
  const n = wholeMaskWords ? Math.max(32, Math.ceil(chunk.numel / 32) * 32) : chunk.numel;
  const stride = wordBytes(n, taskDtype(chunk)) / 4;
  // Stored elements, then (whole mask words) zeros up to the word's end: the kernel reads them as
  // elements of value 0, which count for nothing.
  const upload = (c: RawChunk, at: number): Upload[] => {
    const stored = { at, data: storedBytes(c, chunk.numel) };
    const end = wordBytes(chunk.numel, c.dtype);
    const tail = wordBytes(n, c.dtype) - end;
    return tail > 0 && wholeMaskWords ? [stored, { at: at + end, data: new Uint8Array(tail) }] : [stored];
  };
  return {
    base: {
      name: 'base',
      use: 'in',
      bytes: wordBytes(n, chunk.base.dtype),
      init: upload(chunk.base, 0),
    },
    tasks: {
      name: 'tasks',
      use: 'in',
      bytes: stride * 4 * chunk.tasks.length,
      init: chunk.tasks.flatMap((t, i) => upload(t, i * stride * 4)),
    },
    stride,
  };
}

/** Elements [start, end) of a chunk (views, no copy). */
export function cutChunk(chunk: ChunkInput, start: number, end: number): ChunkInput {
  if (start === 0 && end === chunk.numel) return chunk;
  const cut = (c: RawChunk): RawChunk => {
    const s = dtypeBytes(c.dtype);
    return { bytes: c.bytes.subarray(start * s, end * s), dtype: c.dtype };
  };
  return { numel: end - start, base: cut(chunk.base), tasks: chunk.tasks.map(cut) };
}

/**
 * A chunk's tiles, each run by `run` on its buffer set: the N packed task chunks of a tile fit one
 * binding and the runtime's tile size (τ_uni and outputs are f32: 4 bytes an element at least).
 */
export function chunkTiles<T>(
  rt: GpuRuntime,
  chunk: ChunkInput,
  run: (tile: ChunkInput, slot: string) => Promise<T>,
): Promise<Tile<T>[]> {
  const perElement = Math.max(4, chunk.tasks.length * dtypeBytes(taskDtype(chunk)));
  const limit = rt.tileElements(perElement, TILE_UNIT);
  return rt.tiles(chunk.numel, limit, (start, end, slot) => run(cutChunk(chunk, start, end), slot));
}

/** Elements per reconstruction tile (τ_uni, f32, is its largest binding). */
export const reconstructTileElements = (rt: GpuRuntime) => rt.tileElements(4, TILE_UNIT);

/** The NaN/±∞ counts of a tile the kernels kept: none (every input they read was in range). */
export const noneNonFinite = (numTasks: number) => new Uint32Array(1 + numTasks);

/** N f32 arrays of one length as one `tasks` binding, array t at t·stride words (the f32 programs). */
export function packedTasks(arrays: readonly Float32Array[]): { tasks: Binding; stride: number } {
  const stride = Math.max(1, arrays[0]?.length ?? 0);
  return {
    tasks: {
      name: 'tasks',
      use: 'in',
      bytes: stride * 4 * Math.max(1, arrays.length),
      init: arrays.map((data, t) => ({ at: t * stride * 4, data })),
    },
    stride,
  };
}
