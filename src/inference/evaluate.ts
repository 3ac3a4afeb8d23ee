// Accuracy of a classifier session on a labeled set, in batches.
import type { Feed, ModelSession } from './ort';

/** A set for a graph with one float input (images, tensors): it feeds the graph's first input. */
export interface TensorSet {
  /** [M, ...sampleShape] float32, row-major. */
  readonly inputs: Float32Array;
  readonly sampleShape: readonly number[];
  readonly labels: ArrayLike<number | bigint>;
}

/** One named graph input's values for every sample of a set: [M, ...sampleShape], row-major. */
export interface SetFeed {
  readonly name: string;
  readonly data: Float32Array | BigInt64Array;
  readonly sampleShape: readonly number[];
}

/** A set for a graph with several inputs, or int64 ones (texts as token ids and a mask). */
export interface FeedSet {
  readonly feeds: readonly SetFeed[];
  readonly labels: ArrayLike<number | bigint>;
  /** The texts the feeds were tokenized from, when they were (for showing a sample). */
  readonly texts?: readonly { readonly text: string; readonly pair: string | null }[];
}

export type LabeledSet = TensorSet | FeedSet;

/** Samples [start, start + m) of a feed set, as the session's feeds. */
export function feedBatch(set: Pick<FeedSet, 'feeds'>, start: number, m: number): Feed[] {
  return set.feeds.map((f) => {
    const size = f.sampleShape.reduce((a, b) => a * b, 1);
    return {
      name: f.name,
      data: f.data.subarray(start * size, (start + m) * size),
      dims: [m, ...f.sampleShape],
    } as Feed;
  });
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
  set: (Pick<TensorSet, 'inputs' | 'sampleShape'> | Pick<FeedSet, 'feeds'>) & { readonly count: number },
  options: EvaluateOptions = {},
): Promise<{ logits: Float32Array; classes: number }> {
  const total = set.count;
  const batchSize = options.batchSize ?? 256;
  let logits = new Float32Array(0);
  let classes = 0;
  for (let start = 0; start < total; start += batchSize) {
    options.signal?.throwIfAborted();
    const m = Math.min(batchSize, total - start);
    const { data, dims } =
      'feeds' in set
        ? await session.runFeeds(feedBatch(set, start, m))
        : await session.run(set.inputs.subarray(start * sampleSize(set), (start + m) * sampleSize(set)), [
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

const sampleSize = (set: Pick<TensorSet, 'sampleShape'>) => set.sampleShape.reduce((a, b) => a * b, 1);

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
