// Where an EMR result's τ_uni and packed masks live, and how its readers reach them by range: in
// memory (the usual case), spilled to a scratch file when they would not fit the memory budget
// (an LLM's τ_uni alone is 4 bytes a parameter), or read back from an EMR bundle file. Every
// consumer — task models, the bundle writer, the studio's charts — reads through `EmrValues`, so
// none needs τ_uni whole.
import type { TensorName } from '../formats/tensor';
import { maskWords } from './cpu/kernels';
import type { EmrArena } from './emr-arena';

export interface EmrValues {
  /** 'memory', or where the values are kept on disk (for the report). */
  readonly location: 'memory' | 'spill' | 'bundle';
  /** τ_uni [first, last) of a shared tensor. The array may be a view: do not write to it. */
  tau(name: TensorName, first: number, last: number): Promise<Float32Array>;
  /** Words [firstWord, firstWord + count) of task t's packed mask of a shared tensor. */
  mask(name: TensorName, t: number, firstWord: number, count: number): Promise<Uint32Array>;
  /** Frees what it holds (deletes a spill file). The values cannot be read afterwards. */
  release(): Promise<void>;
  /** The engine memory the values sit in, with the base (./emr-arena.ts): task models rebuild there. */
  readonly arena?: EmrArena;
}

/** What a merge writes into, chunk by chunk in plan order. */
export interface EmrValuesWriter {
  /** τ_uni and the N tasks' mask words of a chunk starting at element `start` (a multiple of 32). */
  put(name: TensorName, start: number, tauUni: Float32Array, masks: Uint32Array): Promise<void>;
  /** The values, once every chunk is in. */
  done(): Promise<EmrValues>;
  /** Abandons the values (a failed or cancelled merge). */
  abort(): Promise<void>;
}

export interface ValueTensor {
  readonly name: TensorName;
  readonly numel: number;
}

/** A shared tensor's entry in a map of values, or a RangeError naming it. */
export function valuesOf<T>(m: ReadonlyMap<TensorName, T>, name: TensorName): T {
  const v = m.get(name);
  if (v === undefined) throw new RangeError(`no merged values for tensor ${name}`);
  return v;
}

/** The in-memory values: one f32 array per tensor, and the N masks back to back per tensor. */
export function memoryValues(
  tauUni: ReadonlyMap<TensorName, Float32Array>,
  masks: ReadonlyMap<TensorName, Uint32Array>,
): EmrValues {
  return {
    location: 'memory',
    tau: async (name, first, last) => valuesOf(tauUni, name).subarray(first, last),
    mask: async (name, t, firstWord, count) => {
      const at = t * maskWords(valuesOf(tauUni, name).length) + firstWord;
      return valuesOf(masks, name).subarray(at, at + count);
    },
    release: async () => {},
  };
}

/** A file the values can be written to and read back from at any offset (OPFS, a temp file). */
export interface ScratchFile {
  readonly name: string;
  write(offset: number, bytes: Uint8Array): Promise<void>;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Closes and deletes the file. */
  remove(): Promise<void>;
}

/** Where each tensor's τ_uni and masks sit in a spill file: τ_uni f32, then N × ⌈numel/32⌉ words. */
export function spillLayout(
  tensors: readonly ValueTensor[],
  numTasks: number,
): { offsets: Map<TensorName, { tau: number; masks: number; words: number }>; bytes: number } {
  const offsets = new Map<TensorName, { tau: number; masks: number; words: number }>();
  let at = 0;
  for (const s of tensors) {
    const words = maskWords(s.numel);
    offsets.set(s.name, { tau: at, masks: at + s.numel * 4, words });
    at += s.numel * 4 + numTasks * words * 4;
  }
  return { offsets, bytes: at };
}

/** Bytes τ_uni and the packed masks take, kept whole: what decides whether a merge spills. */
export const valuesBytes = (tensors: readonly ValueTensor[], numTasks: number): number =>
  tensors.reduce((a, s) => a + s.numel * 4 + numTasks * maskWords(s.numel) * 4, 0);

const bytesOf = (a: Float32Array | Uint32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Values written to, and read back from, a scratch file (see spillLayout). */
export function spillValues(
  file: ScratchFile,
  tensors: readonly ValueTensor[],
  numTasks: number,
): EmrValuesWriter {
  const { offsets } = spillLayout(tensors, numTasks);
  const where = (name: TensorName) => {
    const o = offsets.get(name);
    if (!o) throw new RangeError(`no merged values for tensor ${name}`);
    return o;
  };
  let released = false;
  const values: EmrValues = {
    location: 'spill',
    async tau(name, first, last) {
      if (released) throw new Error(`${file.name}: the merged values were released`);
      return f32View(await file.read(where(name).tau + first * 4, (last - first) * 4));
    },
    async mask(name, t, firstWord, count) {
      if (released) throw new Error(`${file.name}: the merged values were released`);
      const o = where(name);
      return u32(await file.read(o.masks + (t * o.words + firstWord) * 4, count * 4));
    },
    async release() {
      released = true;
      await file.remove();
    },
  };
  return {
    async put(name, start, tauUni, masks) {
      const o = where(name);
      const chunkWords = maskWords(tauUni.length);
      const writes = [file.write(o.tau + start * 4, bytesOf(tauUni))];
      for (let t = 0; t < numTasks; t++)
        writes.push(
          file.write(
            o.masks + (t * o.words + start / 32) * 4,
            bytesOf(masks.subarray(t * chunkWords, (t + 1) * chunkWords)),
          ),
        );
      await Promise.all(writes);
    },
    done: async () => values,
    abort: () => values.release(),
  };
}

/** Bytes as f32 values: a view when aligned, else a copy. */
export const f32View = (b: Uint8Array): Float32Array =>
  b.byteOffset % 4 === 0
    ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4)
    : new Float32Array(b.slice().buffer);

const u32 = (b: Uint8Array): Uint32Array =>
  b.byteOffset % 4 === 0
    ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4)
    : new Uint32Array(b.slice().buffer);
