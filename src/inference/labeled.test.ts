// Plan: labeled sets read their inputs and labels, and every malformed set is refused by name.
import { describe, expect, it } from 'vitest';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { readLabeledSet } from './labeled';

const inputs = {
  name: 'inputs',
  dtype: 'F32' as const,
  shape: [2, 1, 2, 2],
  values: new Float32Array(8).fill(0.5),
};
const labels = (dtype: 'I64' | 'I32' | 'U8', n = 2) => ({
  name: 'labels',
  dtype,
  shape: [n],
  values: new Uint8Array(n * (dtype === 'I64' ? 8 : dtype === 'I32' ? 4 : 1))
    .fill(0)
    .map((_, i) => (i % (dtype === 'I64' ? 8 : 4) === 0 ? 3 : 0)),
});

describe('readLabeledSet', () => {
  it('reads F32 inputs with I64 or I32 labels', async () => {
    const set = await readLabeledSet(memoryCheckpoint('eval.safetensors', [inputs, labels('I64')]));
    expect(set.sampleShape).toEqual([1, 2, 2]);
    expect(Array.from(set.labels, Number)).toEqual([3, 3]);
    expect(Array.from((await readLabeledSet(memoryCheckpoint('e', [inputs, labels('I32')]))).labels)).toEqual(
      [3, 3],
    );
  });
  it('refuses sets without both tensors, with other dtypes, or one label per sample', async () => {
    await expect(readLabeledSet(memoryCheckpoint('eval.safetensors', [inputs]))).rejects.toThrow(
      'eval.safetensors: a labeled set needs tensors "inputs" and "labels"',
    );
    await expect(readLabeledSet(memoryCheckpoint('e', [inputs, labels('U8')]))).rejects.toThrow(
      '"labels" is U8',
    );
    await expect(readLabeledSet(memoryCheckpoint('e', [inputs, labels('I64', 3)]))).rejects.toThrow(
      'do not have one label per sample',
    );
  });
});
