// Labeled evaluation sets in safetensors: `inputs` (F32 [M, ...]) and `labels` (I64 or I32 [M]), as
// the digits zoo ships them; or, for a graph with several inputs (an image and a text, say), one
// tensor per graph input, named like the input (F32, or I64 for token ids and masks), plus `labels`.
import { readTensor, tensorName, type Checkpoint, type TensorEntry } from '../formats/tensor';
import type { FeedSet, LabeledSet, SetFeed, TensorSet } from './evaluate';

export class LabeledSetError extends Error {
  override readonly name = 'LabeledSetError';
}

export async function readLabeledSet(checkpoint: Checkpoint): Promise<LabeledSet> {
  const file = checkpoint.files[0] ?? 'labeled set';
  const inputs = checkpoint.tensors.get(tensorName('inputs'));
  const labels = checkpoint.tensors.get(tensorName('labels'));
  const others = [...checkpoint.tensors.values()].filter((t) => t.name !== 'labels');
  if (!labels || (!inputs && !others.length))
    throw new LabeledSetError(
      `${file}: a labeled set needs tensors "inputs" (or one per graph input) and "labels"`,
    );
  if (labels.dtype !== 'I64' && labels.dtype !== 'I32')
    throw new LabeledSetError(`${file}: "labels" is ${labels.dtype}; I64 or I32 is expected`);
  const m = labels.shape[0];
  const labelBytes = await readTensor(labels);
  const labelValues =
    labels.dtype === 'I64' ? new BigInt64Array(labelBytes.buffer) : new Int32Array(labelBytes.buffer);
  for (const t of inputs ? [inputs] : others)
    if (m === undefined || labels.shape.length !== 1 || t.shape[0] !== m)
      throw new LabeledSetError(
        `${file}: "${t.name}" [${t.shape.join(', ')}] and "labels" [${labels.shape.join(', ')}] do not have one label per sample`,
      );
  if (inputs) {
    if (inputs.dtype !== 'F32')
      throw new LabeledSetError(`${file}: "inputs" is ${inputs.dtype}; F32 is expected`);
    const set: TensorSet = {
      inputs: new Float32Array((await readTensor(inputs)).buffer),
      sampleShape: inputs.shape.slice(1),
      labels: labelValues,
    };
    return set;
  }
  const feeds = await Promise.all(others.map((t) => feedOf(file, t)));
  const set: FeedSet = { feeds, labels: labelValues };
  return set;
}

async function feedOf(file: string, t: TensorEntry): Promise<SetFeed> {
  if (t.dtype !== 'F32' && t.dtype !== 'I64')
    throw new LabeledSetError(`${file}: "${t.name}" is ${t.dtype}; F32 or I64 is expected`);
  const bytes = await readTensor(t);
  return {
    name: t.name,
    data: t.dtype === 'I64' ? new BigInt64Array(bytes.buffer) : new Float32Array(bytes.buffer),
    sampleShape: t.shape.slice(1),
  };
}
