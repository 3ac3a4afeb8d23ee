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

/** Every sample's output row (logits or probabilities), in batches: [M, classes] row-major. */
export async function predict(
  session: ModelSession,
  set: Pick<LabeledSet, 'inputs' | 'sampleShape'> & { readonly count: number },
  options: EvaluateOptions = {},
): Promise<{ logits: Float32Array; classes: number }> {
  const total = set.count;
  const sample = set.sampleShape.reduce((a, b) => a * b, 1);
  const batchSize = options.batchSize ?? 256;
  let logits = new Float32Array(0);
  let classes = 0;
  for (let start = 0; start < total; start += batchSize) {
    options.signal?.throwIfAborted();
    const m = Math.min(batchSize, total - start);
    const { data, dims } = await session.run(set.inputs.subarray(start * sample, (start + m) * sample), [
      m,
      ...set.sampleShape,
    ]);
    if (start === 0) {
      classes = data.length / m;
      logits = new Float32Array(total * classes);
    }
    if (data.length !== m * classes || (dims[0] !== undefined && dims[0] !== m))
      throw new Error(
        `the model gave ${data.length} values for a batch of ${m} samples [${dims.join(', ')}]`,
      );
    logits.set(data, start * classes);
    options.onProgress?.(start + m, total);
  }
  return { logits, classes };
}

/** Samples whose top-1 class equals the label. */
export function countCorrect(
  logits: Float32Array,
  classes: number,
  labels: ArrayLike<number | bigint>,
): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++)
    if (argmax(logits, i * classes, classes) === Number(labels[i])) correct++;
  return correct;
}

export async function accuracy(
  session: ModelSession,
  set: LabeledSet,
  options: EvaluateOptions = {},
): Promise<{ correct: number; total: number; accuracy: number }> {
  const total = set.labels.length;
  const { logits, classes } = await predict(session, { ...set, count: total }, options);
  const correct = countCorrect(logits, classes, set.labels);
  return { correct, total, accuracy: total ? correct / total : 0 };
}
