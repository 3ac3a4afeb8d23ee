// Opens a checkpoint whatever its format: each reader says from the first bytes (and the name)
// whether a file is its own. Companions are the other files the checkpoint may need: the shards
// of a sharded index, the external data of an ONNX model.
import { FormatError } from './errors';
import { matchOnnx, openOnnx } from './onnx';
import { matchPytorch, openPytorch } from './pytorch';
import { matchSafetensors, openSafetensors, openShardedSafetensors } from './safetensors';
import type { ByteSource } from './source';
import type { Checkpoint } from './tensor';

/** Bytes read to recognise a format. */
const SNIFF_BYTES = 16;
/** A tar's first block: the tar of torch < 0.4 shows its "ustar" magic at offset 257. */
const TAR_BLOCK = 512;

/** The first bytes of a file (16), and its first tar block for PyTorch's tar format only. */
async function firstBytes(source: ByteSource): Promise<{ first: Uint8Array; block: Uint8Array }> {
  const block = await source.read(0, Math.min(TAR_BLOCK, source.size));
  return { first: block.subarray(0, SNIFF_BYTES), block };
}

/** 'safetensors-index' is any Hugging Face *.index.json: its shards may be safetensors or PyTorch. */
export type CheckpointKind = 'safetensors' | 'safetensors-index' | 'onnx' | 'pytorch';

export async function sniffCheckpoint(source: ByteSource): Promise<CheckpointKind | undefined> {
  if (/\.safetensors\.index\.json$/i.test(source.name) || /\.index\.json$/i.test(source.name))
    return 'safetensors-index';
  const { first, block } = await firstBytes(source);
  if (matchSafetensors(first)) return 'safetensors';
  if (matchPytorch(block)) return 'pytorch';
  if (matchOnnx(first, source.name)) return 'onnx';
  return undefined;
}

export async function openCheckpoint(
  primary: ByteSource,
  companions: readonly ByteSource[] = [],
): Promise<Checkpoint> {
  switch (await sniffCheckpoint(primary)) {
    case 'safetensors':
      return openSafetensors(primary);
    case 'safetensors-index':
      // pytorch_model.bin.index.json names .bin shards: each shard is opened by what it is
      return openShardedSafetensors(primary, companions, openShard);
    case 'pytorch':
      return openPytorch(primary);
    case 'onnx':
      return openOnnx(primary, companions);
    default:
      throw new FormatError(
        'unsupported',
        primary.name,
        'not a checkpoint this studio reads (safetensors, PyTorch .bin/.pt/.pth/.ckpt, a sharded *.index.json, or ONNX)',
      );
  }
}

/** A shard of a sharded index: safetensors or PyTorch, by its first bytes. */
async function openShard(shard: ByteSource): Promise<Checkpoint> {
  return matchPytorch((await firstBytes(shard)).block) ? openPytorch(shard) : openSafetensors(shard);
}
