// Plan: how the heatmap groups rows and the depth chart finds depths from tensor names.
import { describe, expect, it } from 'vitest';
import { blockOf, depthOf, groupByBlock } from './inspect';

describe('blocks from tensor names', () => {
  it.each([
    ['blocks.3.attn.qkv.weight', 'blocks.3', 3],
    ['encoder.layers.11.fc1.weight', 'encoder.layers.11', 11],
    ['transformer.h.0.mlp.c_fc.weight', 'transformer.h.0', 0],
    ['bert.encoder.layer.2.output.dense.bias', 'bert.encoder.layer.2', 2],
    ['patch_embed.proj.weight', 'patch_embed', undefined],
    ['cls_token', 'cls_token', undefined],
  ])('%s is in %s at depth %s', (name, block, depth) => {
    expect(blockOf(name)).toBe(block);
    expect(depthOf(name)).toBe(depth);
  });

  it('groups in the model’s order', () => {
    const g = groupByBlock(
      ['pos', 'blocks.0.a', 'blocks.1.a', 'blocks.0.b', 'norm.weight'].map((name) => ({ name })),
    );
    expect(g.map((x) => [x.block, x.tensors.map((t) => t.name)])).toEqual([
      ['pos', ['pos']],
      ['blocks.0', ['blocks.0.a', 'blocks.0.b']],
      ['blocks.1', ['blocks.1.a']],
      ['norm', ['norm.weight']],
    ]);
  });
});
