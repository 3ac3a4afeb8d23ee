// The engine suite's inputs: raw chunks (ties, zeros, NaN/±∞, unaligned offsets), layers and model
// sets in memory, and the reference's view of them.
import { narrowFromF32, widenToF32, type MergeDType } from '../../formats/dtype';
import type { ChunkInput, RawChunk } from '../engine';
import { buildModelSet, type ModelSet } from '../model-set';
import type { ReferenceInput } from '../reference';
import { memoryCheckpoint, type MemoryTensor } from './memory-checkpoint';

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

/** A raw chunk widened to f32, as every kernel reads it. */
export const widen = (c: RawChunk): Float32Array => widenToF32(c.bytes, c.dtype);

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
