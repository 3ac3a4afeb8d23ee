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
