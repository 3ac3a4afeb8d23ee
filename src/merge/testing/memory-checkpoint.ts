// Checkpoints held in memory, for tests and benchmarks: the same TensorEntry a reader hands out.
import { dtypeBytes, isMergeDType, narrowFromF32, type DType } from '../../formats/dtype';
import { tensorName, type Checkpoint, type TensorEntry, type TensorName } from '../../formats/tensor';

export interface MemoryTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** f32 values (narrowed to `dtype` for F16/BF16) or raw bytes for other dtypes. */
  readonly values: Float32Array | Uint8Array;
}

export function memoryCheckpoint(file: string, tensors: readonly MemoryTensor[]): Checkpoint {
  const map = new Map<TensorName, TensorEntry>();
  for (const t of tensors) {
    const bytes =
      t.values instanceof Float32Array
        ? isMergeDType(t.dtype)
          ? narrowFromF32(t.values, t.dtype)
          : (() => {
              throw new Error(`${t.name}: f32 values given for ${t.dtype}`);
            })()
        : t.values;
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (bytes.byteLength !== numel * dtypeBytes(t.dtype))
      throw new Error(`${t.name}: ${bytes.byteLength} bytes for ${numel} ${t.dtype}`);
    map.set(tensorName(t.name), {
      name: tensorName(t.name),
      dtype: t.dtype,
      shape: t.shape,
      byteLength: bytes.byteLength,
      file,
      data: {
        async read(start, end) {
          if (start < 0 || end > bytes.byteLength || start > end)
            throw new RangeError(`${t.name}: bad range ${start}..${end}`);
          return bytes.slice(start, end);
        },
      },
    });
  }
  return { format: 'safetensors', files: [file], tensors: map, metadata: new Map() };
}
