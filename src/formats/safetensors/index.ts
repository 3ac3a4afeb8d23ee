// The safetensors format: lazy readers (single file and Hugging Face shards) and a streaming writer.
export { MAX_HEADER_BYTES } from './header';
export { matchSafetensors, openSafetensors } from './reader';
export { openShardedSafetensors } from './sharded';
export {
  createSafetensorsWriter,
  safetensorsFileBytes,
  writeSafetensors,
  type SafetensorsMetadata,
  type SafetensorsWriter,
  type TensorSpec,
  type TensorWithBytes,
} from './writer';
