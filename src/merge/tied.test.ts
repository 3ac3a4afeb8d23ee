// Plan: PyTorch tied weights (lm_head.weight over the embedding's bytes) against a Hugging Face
// safetensors file that omits the alias: the set aligns with nothing left out, the bytes are merged
// once under the first name, and the alias is dropped from every checkpoint of the set (outputs
// omit it, as Hugging Face's safetensors files do). A checkpoint without ties is the same object.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSource } from '../formats/node-files';
import { openCheckpoint } from '../formats/open';
import { buildModelSet, untied } from './model-set';

const FIXTURES = new URL('../formats/pytorch/__fixtures__/', import.meta.url).pathname;
const open = async (name: string) => openCheckpoint(await fileSource(join(FIXTURES, name)));

describe('tied weights', () => {
  it('a tied .bin aligns with a safetensors file that omits the alias', async () => {
    const base = await open('tied.bin');
    expect([...(base.tied ?? [])]).toEqual([['lm_head.weight', 'embed.weight']]);
    const hf = await open('tied_hf.safetensors');
    expect(hf.tensors.has('lm_head.weight' as never)).toBe(false);
    const set = buildModelSet(base, [
      { name: 'hf', checkpoint: hf },
      { name: 'bin', checkpoint: await open('tied.bin') },
    ]);
    expect(set.report.leftOut).toEqual([]);
    expect(set.report.baseOnly).toEqual([]);
    expect(set.shared.map((s) => s.name)).toEqual(['embed.weight', 'body.weight', 'body.bias']);
    expect(set.passThrough).toEqual([[], []]);
  });

  it('leaves a checkpoint without ties as it is', async () => {
    const plain = await open('bert.bin');
    expect(plain.tied).toBeUndefined();
    expect(untied(plain)).toBe(plain);
  });
});
