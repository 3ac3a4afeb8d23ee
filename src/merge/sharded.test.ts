// Plan: how a large model is cut into shards — consecutive whole tensors, none past the limit
// unless a tensor alone is — and the Hugging Face names the studio's own loader groups back.
import { describe, expect, it } from 'vitest';
import { indexName, planShards, shardName } from './sharded';

describe('planShards', () => {
  it.each([
    [[4, 4, 4], 8, [[0, 1], [2]]],
    [[4, 4, 4], 12, [[0, 1, 2]]],
    [[10, 1, 1], 4, [[0], [1, 2]]], // a tensor larger than the limit gets a shard of its own
    [[1, 10, 1], 4, [[0], [1], [2]]],
    [[], 4, []],
  ])('%j at %i bytes per shard → %j', (sizes, max, plan) => expect(planShards(sizes, max)).toEqual(plan));
});

describe('shard names', () => {
  it('follow Hugging Face', () => {
    expect(shardName('mnist', 0, 3)).toBe('mnist-00001-of-00003.safetensors');
    expect(indexName('mnist')).toBe('mnist.safetensors.index.json');
  });
});
