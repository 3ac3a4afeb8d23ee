// Opens a Hugging Face sharded checkpoint (model.safetensors.index.json + its shards) as one
// Checkpoint, after checking that the index and the shards' headers agree tensor by tensor.
import { FormatError } from '../errors';
import type { ByteSource } from '../source';
import type { Checkpoint, TensorEntry, TensorName } from '../tensor';
import { MAX_HEADER_BYTES } from './header';
import { isJsonObject, scanKeys } from './json';
import { openSafetensors } from './reader';

/** An index is JSON like a header; the same cap keeps a wrong file from being read whole. */
const MAX_INDEX_BYTES = MAX_HEADER_BYTES;

interface ShardIndex {
  /** The index's `metadata` (e.g. total_size), values as text. */
  readonly metadata: ReadonlyMap<string, string>;
  /** Tensor name → shard file name, as the index writes them. */
  readonly weightMap: ReadonlyMap<string, string>;
}

/**
 * Opens `index` and the shards it names, reading only their headers. Shards are matched by base
 * file name, so `shards` may be keyed by (or named with) paths or bare File names; given files the
 * index does not name are left alone. The result lists the index, then the shards in file-name
 * order (as transformers loads them); tensors go shard by shard, each shard in data order.
 * Metadata: the index's `metadata`, then each shard's `__metadata__` keys not already present.
 */
export async function openShardedSafetensors(
  index: ByteSource,
  shards: ReadonlyMap<string, ByteSource> | readonly ByteSource[],
  /** How a shard is opened (open.ts also gives PyTorch .bin shards of pytorch_model.bin.index.json). */
  openShard: (shard: ByteSource) => Promise<Checkpoint> = openSafetensors,
): Promise<Checkpoint> {
  const { metadata, weightMap } = await readIndex(index);
  const given = shardsByBaseName(shards);

  const shardNames = [...new Set([...weightMap.values()].map(baseName))].sort();
  const missing = shardNames.filter((name) => !given.has(name));
  const [firstMissing, ...otherMissing] = missing;
  if (firstMissing !== undefined) {
    const also = otherMissing.length > 0 ? ` (also missing: ${otherMissing.join(', ')})` : '';
    throw new FormatError(
      'missing-file',
      firstMissing,
      `this shard is named in ${index.name} but was not given${also}`,
    );
  }
  const sources = shardNames.map((name) => given.get(name) as ByteSource);

  // Open all headers at once, but report the first failure in shard order, not in time order.
  const opened = await Promise.allSettled(sources.map(openShard));
  const checkpoints = opened.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });

  const tensors = new Map<TensorName, TensorEntry>();
  const shardOf = new Map<string, string>(); // tensor name → base name of the shard that holds it
  checkpoints.forEach((checkpoint, i) => {
    const shard = shardNames[i] as string;
    for (const [name, entry] of checkpoint.tensors) {
      const other = shardOf.get(name);
      if (other !== undefined) {
        throw new FormatError(
          'duplicate-name',
          entry.file,
          `tensor ${JSON.stringify(name)} is in both ${other} and ${shard}`,
        );
      }
      shardOf.set(name, shard);
      tensors.set(name, entry);
    }
  });

  for (const [name, mapped] of weightMap) {
    const holder = shardOf.get(name);
    if (holder === undefined) {
      throw new FormatError(
        'bad-index',
        index.name,
        `weight_map puts tensor ${JSON.stringify(name)} in ${mapped}, which has no such tensor`,
      );
    }
    if (holder !== baseName(mapped)) {
      throw new FormatError(
        'bad-index',
        index.name,
        `weight_map puts tensor ${JSON.stringify(name)} in ${mapped}, but it is in ${holder}`,
      );
    }
  }
  for (const [name, shard] of shardOf) {
    if (!weightMap.has(name)) {
      throw new FormatError(
        'bad-index',
        index.name,
        `tensor ${JSON.stringify(name)} of ${shard} is missing from weight_map`,
      );
    }
  }

  const allMetadata = new Map(metadata);
  for (const checkpoint of checkpoints) {
    for (const [key, value] of checkpoint.metadata) if (!allMetadata.has(key)) allMetadata.set(key, value);
  }
  return {
    format: checkpoints[0]?.format ?? 'safetensors',
    files: [index.name, ...sources.map((s) => s.name)],
    tensors,
    metadata: allMetadata,
  };
}

/** The last path segment, for '/' and '\' separators alike. */
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

function isSourceList(
  shards: ReadonlyMap<string, ByteSource> | readonly ByteSource[],
): shards is readonly ByteSource[] {
  return Array.isArray(shards);
}

function shardsByBaseName(
  shards: ReadonlyMap<string, ByteSource> | readonly ByteSource[],
): Map<string, ByteSource> {
  const named = isSourceList(shards) ? shards.map((s) => [s.name, s] as const) : [...shards];
  const byBaseName = new Map<string, ByteSource>();
  for (const [name, source] of named) {
    const base = baseName(name);
    const other = byBaseName.get(base);
    if (other !== undefined) {
      throw new FormatError(
        'duplicate-name',
        base,
        `two shards have this file name (${other.name}, ${source.name}): cannot tell which the index means`,
      );
    }
    byBaseName.set(base, source);
  }
  return byBaseName;
}

async function readIndex(index: ByteSource): Promise<ShardIndex> {
  const fail = (problem: string, cause?: unknown): FormatError =>
    new FormatError('bad-index', index.name, problem, cause === undefined ? undefined : { cause });
  if (index.size > MAX_INDEX_BYTES)
    throw fail(`the index is ${index.size} bytes, over the ${MAX_INDEX_BYTES}-byte cap`);

  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await index.read(0, index.size));
    json = JSON.parse(text);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw fail(`the index is not valid UTF-8 JSON (${(e as Error).message})`, e);
  }
  if (!isJsonObject(json)) throw fail('the index is not a JSON object');
  const { duplicate } = scanKeys(text);
  if (duplicate !== undefined) {
    if (duplicate.path.length === 1 && duplicate.path[0] === 'weight_map') {
      throw new FormatError(
        'duplicate-name',
        index.name,
        `weight_map lists tensor ${JSON.stringify(duplicate.key)} twice`,
      );
    }
    throw fail(
      `key ${JSON.stringify(duplicate.key)} appears twice in ${['index', ...duplicate.path].join('.')}`,
    );
  }

  const weightMap = new Map<string, string>();
  const rawWeightMap = Object.hasOwn(json, 'weight_map') ? json['weight_map'] : undefined;
  if (!isJsonObject(rawWeightMap)) throw fail('the index has no "weight_map" object');
  for (const [name, shard] of Object.entries(rawWeightMap)) {
    if (typeof shard !== 'string')
      throw fail(`weight_map gives tensor ${JSON.stringify(name)} a shard that is not a file name`);
    weightMap.set(name, shard);
  }

  // transformers writes {"total_size": <number>}; keep every value, as text.
  const metadata = new Map<string, string>();
  const rawMetadata = Object.hasOwn(json, 'metadata') ? json['metadata'] : undefined;
  if (rawMetadata !== undefined && rawMetadata !== null) {
    if (!isJsonObject(rawMetadata)) throw fail('the index\'s "metadata" is not an object');
    for (const [key, value] of Object.entries(rawMetadata)) {
      metadata.set(key, typeof value === 'string' ? value : metadataText(key, value, fail));
    }
  }
  return { metadata, weightMap };
}

function metadataText(
  key: string,
  value: unknown,
  fail: (problem: string, cause?: unknown) => FormatError,
): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw fail(`the index's metadata value of ${JSON.stringify(key)} is nested too deeply`, e);
  }
}
