// ONNX TensorProto.DataType numbers: their names, our DType (where there is one), and which typed
// field holds their values when they are not in raw_data (onnx.proto, TensorProto comments).
import type { DType } from '../dtype';

/** The typed TensorProto field that stores a data type's values outside raw_data. */
export type TypedField =
  'float_data' | 'int32_data' | 'string_data' | 'int64_data' | 'double_data' | 'uint64_data';

export interface OnnxDataType {
  /** ONNX's name (TensorProto.DataType). */
  readonly name: string;
  /** Our DType; absent for types we pass through without reading (strings, complex, 4-bit, FNUZ floats). */
  readonly dtype?: DType;
  readonly field: TypedField;
  /** Bytes per element in raw_data, where that is a whole number (not for strings or 4-bit types). */
  readonly rawBytes?: number;
}

// 1..16 are ONNX 1.12; 17..23 came later (1.14–1.18) and are listed so that newer models open:
// their numbers are fixed by the ONNX spec even though onnx.proto 1.12 does not name them.
const TYPES: Readonly<Record<number, OnnxDataType>> = {
  1: { name: 'FLOAT', dtype: 'F32', field: 'float_data', rawBytes: 4 },
  2: { name: 'UINT8', dtype: 'U8', field: 'int32_data', rawBytes: 1 },
  3: { name: 'INT8', dtype: 'I8', field: 'int32_data', rawBytes: 1 },
  4: { name: 'UINT16', dtype: 'U16', field: 'int32_data', rawBytes: 2 },
  5: { name: 'INT16', dtype: 'I16', field: 'int32_data', rawBytes: 2 },
  6: { name: 'INT32', dtype: 'I32', field: 'int32_data', rawBytes: 4 },
  7: { name: 'INT64', dtype: 'I64', field: 'int64_data', rawBytes: 8 },
  8: { name: 'STRING', field: 'string_data' },
  9: { name: 'BOOL', dtype: 'BOOL', field: 'int32_data', rawBytes: 1 },
  10: { name: 'FLOAT16', dtype: 'F16', field: 'int32_data', rawBytes: 2 },
  11: { name: 'DOUBLE', dtype: 'F64', field: 'double_data', rawBytes: 8 },
  12: { name: 'UINT32', dtype: 'U32', field: 'uint64_data', rawBytes: 4 },
  13: { name: 'UINT64', dtype: 'U64', field: 'uint64_data', rawBytes: 8 },
  14: { name: 'COMPLEX64', field: 'float_data', rawBytes: 8 },
  15: { name: 'COMPLEX128', field: 'double_data', rawBytes: 16 },
  16: { name: 'BFLOAT16', dtype: 'BF16', field: 'int32_data', rawBytes: 2 },
  // safetensors' F8_E4M3 / F8_E5M2 are torch's float8_e4m3fn / float8_e5m2: the same encodings.
  17: { name: 'FLOAT8E4M3FN', dtype: 'F8_E4M3', field: 'int32_data', rawBytes: 1 },
  18: { name: 'FLOAT8E4M3FNUZ', field: 'int32_data', rawBytes: 1 },
  19: { name: 'FLOAT8E5M2', dtype: 'F8_E5M2', field: 'int32_data', rawBytes: 1 },
  20: { name: 'FLOAT8E5M2FNUZ', field: 'int32_data', rawBytes: 1 },
  21: { name: 'UINT4', field: 'int32_data' },
  22: { name: 'INT4', field: 'int32_data' },
  23: { name: 'FLOAT4E2M1', field: 'int32_data' },
};

/** The data type with this number, or undefined for UNDEFINED (0) and numbers ONNX does not define. */
export function onnxDataType(n: number): OnnxDataType | undefined {
  return Object.hasOwn(TYPES, n) ? TYPES[n] : undefined;
}

/** A graph input's element type for display: our DType, else ONNX's name, else the bare number. */
export function elemTypeName(n: number): string {
  const t = onnxDataType(n);
  return t?.dtype ?? t?.name ?? (n === 0 ? 'UNDEFINED' : `DataType(${n})`);
}
