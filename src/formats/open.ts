// Opens a checkpoint whatever its format: each reader says from the first bytes (and the name)
// whether a file is its own. Companions are the other files the checkpoint may need: the shards
// of a sharded index, the external data of an ONNX model.
import { FormatError } from './errors';
import { matchOnnx, openOnnx } from './onnx';
import { matchSafetensors, openSafetensors, openShardedSafetensors } from './safetensors';
import type { ByteSource } from './source';
import type { Checkpoint } from './tensor';

/** Bytes read to recognise a format. */
const SNIFF_BYTES = 16;

export type CheckpointKind = 'safetensors' | 'safetensors-index' | 'onnx';

export async function sniffCheckpoint(source: ByteSource): Promise<CheckpointKind | undefined> {
  if (/\.safetensors\.index\.json$/i.test(source.name) || /\.index\.json$/i.test(source.name))
    return 'safetensors-index';
  const first = await source.read(0, Math.min(SNIFF_BYTES, source.size));
  if (matchSafetensors(first)) return 'safetensors';
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
      return openShardedSafetensors(primary, companions);
    case 'onnx':
      return openOnnx(primary, companions);
    default:
      throw new FormatError(
        'unsupported',
        primary.name,
        'not a checkpoint this studio reads (safetensors, a sharded *.index.json, or ONNX)',
      );
  }
}
