// Large task models as Hugging Face sharded safetensors: TASK-00001-of-0000N.safetensors plus
// TASK.safetensors.index.json mapping each tensor to its shard — what transformers writes and
// reads, and what the studio's own loader groups back together. Tensors stay whole and in the
// task's order; a shard closes before the tensor that would take it past the limit.
import { createSafetensorsWriter } from '../formats/safetensors';
import type { ByteSink } from '../formats/sink';
import type { MergeEngine } from './engine';
import { writeTensors } from './export';
import type { AnyMergeResult } from './merge';
import { taskModel } from './task-model';

/** transformers' default max_shard_size ("5GB"). */
export const DEFAULT_SHARD_BYTES = 5e9;

/** Consecutive tensors per shard: none passes maxBytes unless one tensor alone does. */
export function planShards(sizes: readonly number[], maxBytes: number): number[][] {
  const shards: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (current.length > 0 && bytes + size > maxBytes) {
      shards.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) shards.push(current);
  return shards;
}

export const shardName = (stem: string, k: number, n: number) =>
  `${stem}-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
export const indexName = (stem: string) => `${stem}.safetensors.index.json`;

/** Shards the task's safetensors export takes (1: a single file, no index). */
export function shardCount(result: AnyMergeResult, t: number, maxBytes: number): number {
  // Every output tensor has the byte length of the task's own entry (same shape, same dtype).
  const sizes = [...(result.set.tasks[t]?.checkpoint.tensors.values() ?? [])].map((e) => e.byteLength);
  return planShards(sizes, maxBytes).length;
}

/** Writes the shards and the index, each through a sink from `sinkFor`; returns the bytes written. */
export async function writeShardedTask(
  result: AnyMergeResult,
  t: number,
  engine: MergeEngine,
  stem: string,
  maxBytes: number,
  sinkFor: (name: string) => Promise<ByteSink>,
): Promise<number> {
  const tensors = taskModel(result, t, engine);
  const plan = planShards(
    tensors.map((x) => x.byteLength),
    maxBytes,
  );
  // Null prototype: a tensor named __proto__ is an ordinary key of the index.
  const weightMap: Record<string, string> = Object.create(null) as Record<string, string>;
  let total = 0;
  let written = 0;
  for (const [k, indices] of plan.entries()) {
    const name = shardName(stem, k, plan.length);
    const shard = indices.map((i) => tensors[i] as (typeof tensors)[number]);
    for (const tensor of shard) {
      weightMap[tensor.name] = name;
      total += tensor.byteLength;
    }
    written += await writeTensors(
      await createSafetensorsWriter(await sinkFor(name), shard, { format: 'pt' }),
      shard,
    );
  }
  const index = new TextEncoder().encode(
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
  );
  const sink = await sinkFor(indexName(stem));
  await sink.write(index);
  await sink.close();
  return written + index.byteLength;
}
