// The one tensor model both formats hand out: nothing above src/formats knows which format a
// tensor came from. A tensor is a description plus a way to read its bytes on demand.
import type { DType } from './dtype';
import { FormatError } from './errors';
import type { ByteSource } from './source';

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
  /** The same bytes into `target` (end − start bytes long), where the source reads in place. */
  readInto?(start: number, end: number, target: Uint8Array): Promise<void>;
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
  readonly format: 'safetensors' | 'onnx' | 'pytorch';
  /** Every file this checkpoint was read from (shards, external data), in the order given. */
  readonly files: readonly string[];
  /** Tensors in file order. */
  readonly tensors: ReadonlyMap<TensorName, TensorEntry>;
  /** safetensors `__metadata__`, ONNX `metadata_props`, PyTorch's `pytorch_layout` (zip or legacy). */
  readonly metadata: ReadonlyMap<string, string>;
  /**
   * PyTorch tied weights: a tensor over exactly the bytes of an earlier one (lm_head.weight tied to
   * the embedding) → that earlier tensor's name. Both are in `tensors`; safetensors files omit the alias.
   */
  readonly tied?: ReadonlyMap<TensorName, TensorName>;
}

export function readTensor(entry: TensorEntry): Promise<Uint8Array<ArrayBuffer>> {
  return entry.data.read(0, entry.byteLength);
}

/** Refuses a read outside [0, byteLength] of a tensor with an 'out-of-bounds' FormatError. */
export function checkTensorRange(
  file: string,
  what: string,
  byteLength: number,
  start: number,
  end: number,
): void {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end < start ||
    end > byteLength
  ) {
    throw new FormatError(
      'out-of-bounds',
      file,
      `read of bytes [${start}, ${end}) is outside ${what} (${byteLength} bytes)`,
    );
  }
}

/** A tensor whose bytes are the range [offset, offset + byteLength) of a source. */
export function sourceRangeData(
  source: ByteSource,
  offset: number,
  byteLength: number,
  what: string,
): TensorData {
  const into = source.readInto?.bind(source);
  return {
    // async, so a bad range is a rejected promise like any other read failure
    async read(start, end) {
      checkTensorRange(source.name, what, byteLength, start, end);
      return source.read(offset + start, end - start);
    },
    ...(into
      ? {
          async readInto(start: number, end: number, target: Uint8Array) {
            checkTensorRange(source.name, what, byteLength, start, end);
            if (target.byteLength !== end - start)
              throw new RangeError(
                `${source.name}: ${what}: a ${target.byteLength}-byte target for ${end - start} bytes`,
              );
            return into(offset + start, target);
          },
        }
      : {}),
  };
}
