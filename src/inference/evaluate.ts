// Accuracy of a classifier session on a labeled set, in batches.
import type { ModelSession } from './ort';

export interface LabeledSet {
  /** [M, ...sampleShape] float32, row-major. */
  readonly inputs: Float32Array;
  readonly sampleShape: readonly number[];
  readonly labels: ArrayLike<number | bigint>;
}

export interface EvaluateOptions {
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Index of the largest value; the first one on ties, as torch.argmax does. */
export function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++)
    if ((values[offset + j] as number) > (values[offset + best] as number)) best = j;
  return best;
}

export async function accuracy(
  session: ModelSession,
  set: LabeledSet,
  options: EvaluateOptions = {},
): Promise<{ correct: number; total: number; accuracy: number }> {
  const total = set.labels.length;
  const sample = set.sampleShape.reduce((a, b) => a * b, 1);
  const batchSize = options.batchSize ?? 256;
  let correct = 0;
  for (let start = 0; start < total; start += batchSize) {
    options.signal?.throwIfAborted();
    const m = Math.min(batchSize, total - start);
    const { data, dims } = await session.run(set.inputs.subarray(start * sample, (start + m) * sample), [
      m,
      ...set.sampleShape,
    ]);
    const classes = dims[dims.length - 1] as number;
    for (let i = 0; i < m; i++)
      if (argmax(data, i * classes, classes) === Number(set.labels[start + i])) correct++;
    options.onProgress?.(start + m, total);
  }
  return { correct, total, accuracy: total ? correct / total : 0 };
}
