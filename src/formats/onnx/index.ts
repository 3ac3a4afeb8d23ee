// The ONNX format: a lazy reader of ModelProto initializers (raw_data, typed fields, external data)
// and a writer that replaces initializers' data while keeping every other byte of the model.
export {
  MAX_ONNX_PROTO_BYTES,
  matchOnnx,
  openOnnx,
  type OnnxCheckpoint,
  type OnnxExternalFiles,
  type OnnxNode,
  type OnnxOpset,
  type OnnxSkipped,
  type OnnxValueInfo,
} from './reader';
export {
  writeOnnx,
  type OnnxExternalDataTarget,
  type OnnxReplacement,
  type WriteOnnxOptions,
  type WriteOnnxResult,
} from './writer';
export { type OnnxAddedInitializer, type OnnxGraphEdits } from './graph-edits';
