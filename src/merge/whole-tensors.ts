// The walk of the methods that need a shared tensor's values whole — mergekit's (top-k, quantiles,
// L1 norms, DELLA's ranks), the spectral ones and TSV-C (an SVD per weight): one tensor at a time,
// its inputs widened to f32 when asked for, progress in stored bytes after each tensor. One home
// for the reading, the cancel checks and the progress count those three passes shared.
import { widenToF32 } from '../formats/dtype';
import type { ModelSet, SharedTensor } from './model-set';

/** What runMerge's options give a whole-tensor pass (a subset of MergeOptions, kept here to avoid a cycle). */
export interface WholeTensorOptions {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?:
    | ((p: {
        phase: 'merge';
        bytesDone: number;
        bytesTotal: number;
        tensorsDone: number;
        tensorsTotal: number;
      }) => void)
    | undefined;
}

export interface WholeTensor {
  readonly tensor: SharedTensor;
  /** The tensor's index among the set's shared tensors. */
  readonly index: number;
  /** The base's values, f32. */
  base(): Promise<Float32Array>;
  /** Task t's values, f32: read when asked, so a pass may hold one task at a time (TSV-C). */
  task(t: number): Promise<Float32Array>;
  /** The base's and every task's values, read side by side. */
  all(): Promise<{ base: Float32Array; tasks: Float32Array[] }>;
}

const storedBytes = (s: SharedTensor) => [s.base, ...s.tasks].reduce((a, e) => a + e.byteLength, 0);

/**
 * Runs `body` on each shared tensor in the set's order; the signal is checked before each tensor and
 * progress reported after it. Returns the bytes read (every input's, as stored).
 */
export async function forEachWholeTensor(
  set: ModelSet,
  options: WholeTensorOptions,
  body: (w: WholeTensor) => Promise<void>,
): Promise<number> {
  const bytesTotal = set.shared.reduce((a, s) => a + storedBytes(s), 0);
  let bytesDone = 0;
  let bytesRead = 0;
  const read = async (e: SharedTensor['base']): Promise<Float32Array> => {
    options.signal?.throwIfAborted();
    const bytes = await e.data.read(0, e.byteLength);
    bytesRead += bytes.byteLength;
    return widenToF32(bytes, e.dtype);
  };
  for (const [index, tensor] of set.shared.entries()) {
    options.signal?.throwIfAborted();
    const task = (t: number) => {
      const e = tensor.tasks[t];
      if (!e) throw new RangeError(`task index ${t} out of range`);
      return read(e);
    };
    await body({
      tensor,
      index,
      base: () => read(tensor.base),
      task,
      all: async () => {
        const [base, ...tasks] = await Promise.all([
          read(tensor.base),
          ...tensor.tasks.map((_, t) => task(t)),
        ]);
        return { base: base as Float32Array, tasks };
      },
    });
    bytesDone += storedBytes(tensor);
    options.onProgress?.({
      phase: 'merge',
      bytesDone,
      bytesTotal,
      tensorsDone: index + 1,
      tensorsTotal: set.shared.length,
    });
  }
  return bytesRead;
}

/** Which whole-tensor pass a method runs, for its memory estimate (docs/merge.md, each pass's cost). */
export type WholeTensorPass = 'mergekit' | 'spectral' | 'tsv_c';

/**
 * About the bytes a whole-tensor pass holds for one shared tensor, the documented estimates:
 * mergekit's, its raw inputs plus (N + 2)·8 bytes an element; the spectral methods', the raw inputs,
 * the f32 inputs and ~80 bytes an element of float64 SVD work for a 2-D weight; TSV-C's, the base and
 * one task at a time with the same SVD work. `--budget` sizes the streaming methods' chunks; these
 * passes are bounded by their largest tensor instead, which this makes a number a surface can show.
 */
export function wholeTensorBytes(tensor: SharedTensor, pass: WholeTensorPass): number {
  const n = tensor.numel;
  const tasks = tensor.tasks.length;
  const raw = storedBytes(tensor);
  const svd = tensor.shape.length === 2 ? 80 * n : 16 * n;
  if (pass === 'mergekit') return raw + (tasks + 2) * 8 * n;
  if (pass === 'spectral') return raw + (tasks + 1) * 4 * n + svd;
  return tensor.base.byteLength + (tensor.tasks[0]?.byteLength ?? 0) + 8 * n + svd;
}

/** The set's shared tensor a pass needs the most memory for, and about how much. */
export function largestWholeTensor(
  set: ModelSet,
  pass: WholeTensorPass,
): { readonly name: string; readonly shape: readonly number[]; readonly bytes: number } | undefined {
  let top: { name: string; shape: readonly number[]; bytes: number } | undefined;
  for (const s of set.shared) {
    const bytes = wholeTensorBytes(s, pass);
    if (!top || bytes > top.bytes) top = { name: s.name, shape: s.shape, bytes };
  }
  return top;
}
