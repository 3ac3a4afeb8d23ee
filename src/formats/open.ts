// Opens a checkpoint whatever its format: each reader says from the first bytes (and the name)
// whether a file is its own. Companions are the other files the checkpoint may need: the shards
// of a sharded index, the external data of an ONNX model. The ONNX reader (protobufjs and the ONNX
// schema, ~30 ms to load) is imported only when a file may be ONNX: a safetensors or PyTorch merge
// never loads it.
import { FormatError } from './errors';
import { matchPytorch, openPytorch } from './pytorch';
import { matchSafetensors, openSafetensors, openShardedSafetensors } from './safetensors';
import type { ByteSource } from './source';
import type { Checkpoint } from './tensor';

/** Bytes read to recognise a format. */
const SNIFF_BYTES = 16;
/** A tar's first block: the tar of torch < 0.4 shows its "ustar" magic at offset 257. */
const TAR_BLOCK = 512;

/**
 * The tar of torch < 0.4, judged by its first block: read only for a file the first 16 bytes did
 * not place (a remote file's header fetch stays as small as it was).
 */
async function isPytorchTar(source: ByteSource): Promise<boolean> {
  return source.size >= TAR_BLOCK && matchPytorch(await source.read(0, TAR_BLOCK));
}

/** 'safetensors-index' is any Hugging Face *.index.json: its shards may be safetensors or PyTorch. */
export type CheckpointKind = 'safetensors' | 'safetensors-index' | 'onnx' | 'pytorch';

export async function sniffCheckpoint(source: ByteSource): Promise<CheckpointKind | undefined> {
  if (/\.safetensors\.index\.json$/i.test(source.name) || /\.index\.json$/i.test(source.name))
    return 'safetensors-index';
  const first = await source.read(0, Math.min(SNIFF_BYTES, source.size));
  if (matchSafetensors(first)) return 'safetensors';
  if (matchPytorch(first)) return 'pytorch';
  if (/\.onnx$/i.test(source.name) || (await import('./onnx')).matchOnnx(first, source.name)) return 'onnx';
  if (await isPytorchTar(source)) return 'pytorch';
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
      return (await import('./onnx')).openOnnx(primary, companions);
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
  const first = await shard.read(0, Math.min(SNIFF_BYTES, shard.size));
  if (matchPytorch(first)) return openPytorch(shard);
  return !matchSafetensors(first) && (await isPytorchTar(shard))
    ? openPytorch(shard)
    : openSafetensors(shard);
}
