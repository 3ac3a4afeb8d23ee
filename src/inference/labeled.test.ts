// Plan: labeled sets read their inputs and labels, and every malformed set is refused by name.
import { describe, expect, it } from 'vitest';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import type { FeedSet, TensorSet } from './evaluate';
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
    const set = (await readLabeledSet(
      memoryCheckpoint('eval.safetensors', [inputs, labels('I64')]),
    )) as TensorSet;
    expect(set.sampleShape).toEqual([1, 2, 2]);
    expect(Array.from(set.labels, Number)).toEqual([3, 3]);
    expect(Array.from((await readLabeledSet(memoryCheckpoint('e', [inputs, labels('I32')]))).labels)).toEqual(
      [3, 3],
    );
  });
  it('refuses sets without both tensors, with other dtypes, or one label per sample', async () => {
    await expect(readLabeledSet(memoryCheckpoint('eval.safetensors', [inputs]))).rejects.toThrow(
      'eval.safetensors: a labeled set needs tensors "inputs" (or one per graph input) and "labels"',
    );
    await expect(readLabeledSet(memoryCheckpoint('e', [inputs, labels('U8')]))).rejects.toThrow(
      '"labels" is U8',
    );
    await expect(readLabeledSet(memoryCheckpoint('e', [inputs, labels('I64', 3)]))).rejects.toThrow(
      'do not have one label per sample',
    );
  });
  it('reads one tensor per graph input (F32 and I64) when there is no "inputs"', async () => {
    const pixels = {
      name: 'pixels',
      dtype: 'F32' as const,
      shape: [2, 3],
      values: Float32Array.of(1, 2, 3, 4, 5, 6),
    };
    const ids = {
      name: 'input_ids',
      dtype: 'I64' as const,
      shape: [2, 2],
      values: new Uint8Array(BigInt64Array.of(7n, 8n, 9n, 10n).buffer),
    };
    const set = (await readLabeledSet(
      memoryCheckpoint('qa.safetensors', [pixels, ids, labels('I32')]),
    )) as FeedSet;
    expect(set.feeds.map((f) => [f.name, f.sampleShape, [...f.data].map(Number)])).toEqual([
      ['pixels', [3], [1, 2, 3, 4, 5, 6]],
      ['input_ids', [2], [7, 8, 9, 10]],
    ]);
    expect(Array.from(set.labels, Number)).toEqual([3, 3]);
    const u8 = { name: 'mask', dtype: 'U8' as const, shape: [2], values: new Uint8Array(2) };
    await expect(
      readLabeledSet(memoryCheckpoint('qa.safetensors', [pixels, u8, labels('I32')])),
    ).rejects.toThrow('qa.safetensors: "mask" is U8; F32 or I64 is expected');
    await expect(readLabeledSet(memoryCheckpoint('qa.safetensors', [ids, labels('I32', 3)]))).rejects.toThrow(
      '"input_ids" [2, 2] and "labels" [3] do not have one label per sample',
    );
  });
});
