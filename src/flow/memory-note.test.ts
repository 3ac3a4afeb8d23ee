import { describe, expect, it } from 'vitest';
import { anyMethodSpec } from '../merge/methods';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { wholeTensorBytes } from '../merge/whole-tensors';
import { checkedModelSet } from './checks';
import { budgetNote } from './memory-note';

// A 64 × 32 weight and a bias, base + 3 tasks, f32.
const model = (file: string) =>
  memoryCheckpoint(file, [
    { name: 'w', dtype: 'F32', shape: [64, 32], values: new Float32Array(64 * 32).fill(1) },
    { name: 'b', dtype: 'F32', shape: [64], values: new Float32Array(64).fill(1) },
  ]);
const set = checkedModelSet(
  model('base.safetensors'),
  ['a', 'b', 'c'].map((name) => ({ name, checkpoint: model(`${name}.safetensors`) })),
);
const w = set.shared.find((s) => s.name === 'w');

describe('budgetNote: what a whole-tensor method holds past the budget, said before it starts', () => {
  it('estimates each pass by its documented formula (docs/merge.md)', () => {
    if (!w) throw new Error('no shared w');
    const n = 64 * 32;
    expect(wholeTensorBytes(w, 'mergekit')).toBe(4 * n * 4 + 5 * 8 * n);
    expect(wholeTensorBytes(w, 'spectral')).toBe(4 * n * 4 + 4 * 4 * n + 80 * n);
    expect(wholeTensorBytes(w, 'tsv_c')).toBe(2 * 4 * n + 8 * n + 80 * n);
  });
  it('names the largest tensor when it passes the budget, for mergekit’s, spectral and TSV-C only', () => {
    const ties = anyMethodSpec('ties', { density: 0.5 });
    expect(budgetNote(set, ties, 1 << 20)).toBeUndefined();
    expect(budgetNote(set, ties, 1024)).toBe(
      'this method reads each tensor whole, so the memory budget (1 KiB) does not bound it: the largest, w [64 × 32], needs about 112 KiB while it is merged',
    );
    expect(budgetNote(set, anyMethodSpec('iso_c', {}), 1024)).toMatch(/the largest, w \[64 × 32\]/);
    expect(budgetNote(set, anyMethodSpec('tsv_c', {}), 1024)).toMatch(/the largest, w /);
    // The streaming methods cut their chunks to the budget: nothing to say.
    for (const m of ['emr', 'ta', 'tall_mask', 't_switch'])
      expect(budgetNote(set, anyMethodSpec(m, {}), 1024)).toBeUndefined();
  });
});
