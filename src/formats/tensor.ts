// The one tensor model both formats hand out: nothing above src/formats knows which format a
// tensor came from. A tensor is a description plus a way to read its bytes on demand.
import type { DType } from './dtype';

/** A tensor's name inside a checkpoint (not a file name). */
export type TensorName = string & { readonly __brand: 'TensorName' };
export const tensorName = (s: string): TensorName => s as TensorName;

export interface TensorData {
  /**
   * Little-endian bytes [start, end) of the tensor's data, as laid out in row-major order in the
   * tensor's own dtype. Ranges let the streaming scheduler read a large tensor chunk by chunk.
   * A range outside [0, byteLength] is an 'out-of-bounds' FormatError.
   */
  read(start: number, end: number): Promise<Uint8Array<ArrayBuffer>>;
}

export interface TensorEntry {
  readonly name: TensorName;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Element count × dtype size. */
  readonly byteLength: number;
  /** The file the bytes live in (for messages and for grouping reads). */
  readonly file: string;
  readonly data: TensorData;
}

export interface Checkpoint {
  readonly format: 'safetensors' | 'onnx';
  /** Every file this checkpoint was read from (shards, external data), in the order given. */
  readonly files: readonly string[];
  /** Tensors in file order. */
  readonly tensors: ReadonlyMap<TensorName, TensorEntry>;
  /** safetensors `__metadata__`, ONNX `metadata_props`. */
  readonly metadata: ReadonlyMap<string, string>;
}

export function readTensor(entry: TensorEntry): Promise<Uint8Array<ArrayBuffer>> {
  return entry.data.read(0, entry.byteLength);
}
