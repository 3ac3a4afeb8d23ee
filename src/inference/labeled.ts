// Labeled evaluation sets as the zoo ships them: a safetensors file with `inputs` (F32 [M, ...]) and
// `labels` (I64 or I32 [M]).
import { readTensor, tensorName, type Checkpoint } from '../formats/tensor';
import type { LabeledSet } from './evaluate';

export class LabeledSetError extends Error {
  override readonly name = 'LabeledSetError';
}

export async function readLabeledSet(checkpoint: Checkpoint): Promise<LabeledSet> {
  const file = checkpoint.files[0] ?? 'labeled set';
  const inputs = checkpoint.tensors.get(tensorName('inputs'));
  const labels = checkpoint.tensors.get(tensorName('labels'));
  if (!inputs || !labels)
    throw new LabeledSetError(`${file}: a labeled set needs tensors "inputs" and "labels"`);
  if (inputs.dtype !== 'F32')
    throw new LabeledSetError(`${file}: "inputs" is ${inputs.dtype}; F32 is expected`);
  if (labels.dtype !== 'I64' && labels.dtype !== 'I32')
    throw new LabeledSetError(`${file}: "labels" is ${labels.dtype}; I64 or I32 is expected`);
  const m = inputs.shape[0];
  if (m === undefined || labels.shape.length !== 1 || labels.shape[0] !== m) {
    throw new LabeledSetError(
      `${file}: "inputs" [${inputs.shape.join(', ')}] and "labels" [${labels.shape.join(', ')}] do not have one label per sample`,
    );
  }
  const labelBytes = await readTensor(labels);
  return {
    inputs: new Float32Array((await readTensor(inputs)).buffer),
    sampleShape: inputs.shape.slice(1),
    labels: labels.dtype === 'I64' ? new BigInt64Array(labelBytes.buffer) : new Int32Array(labelBytes.buffer),
  };
}
