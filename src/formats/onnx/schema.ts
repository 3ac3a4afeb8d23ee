// The ONNX protobuf message types (protobufjs, light build: no .proto parser at run time), and the
// plain shapes of the decoded parts the reader uses.
import protobuf from 'protobufjs/light.js';
import { onnxSchema } from './onnx-schema';

const root = protobuf.Root.fromJSON(onnxSchema).resolveAll();

export const ModelProto = root.lookupType('onnx.ModelProto');
export const GraphProto = root.lookupType('onnx.GraphProto');
export const TensorProto = root.lookupType('onnx.TensorProto');
export const ValueInfoProto = root.lookupType('onnx.ValueInfoProto');

/** Field numbers the reader and writer handle at the wire level (onnx.proto). */
export const FIELD = {
  model: { graph: 7 },
  graph: { node: 1, initializer: 5, output: 12, sparseInitializer: 15 },
  node: { input: 1 },
  tensor: {
    dims: 1,
    dataType: 2,
    segment: 3,
    floatData: 4,
    int32Data: 5,
    stringData: 6,
    int64Data: 7,
    name: 8,
    rawData: 9,
    doubleData: 10,
    uint64Data: 11,
    externalData: 13,
    dataLocation: 14,
  },
} as const;

/** TensorProto.DataLocation.EXTERNAL */
export const EXTERNAL = 1;

/**
 * Options for `Type.toObject`: 64-bit integers as numbers (exact below 2^53; larger dims are
 * rejected as bad shapes, and int64 tensor data never goes through here), absent fields absent.
 */
export const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, arrays: true };

// The decoded shapes below hold only the fields we read; toObject gives exactly these names
// because the schema keeps onnx.proto's field names (keepCase).

export interface DecodedStringEntry {
  key?: string;
  value?: string;
}

export interface DecodedTensorMeta {
  dims: number[];
  data_type?: number;
  segment?: { begin?: number; end?: number };
  name?: string;
  external_data: DecodedStringEntry[];
  data_location?: number;
}

export interface DecodedDimension {
  dim_value?: number;
  dim_param?: string;
}

export interface DecodedTensorType {
  elem_type?: number;
  shape?: { dim: DecodedDimension[] };
}

export interface DecodedTypeProto {
  tensor_type?: DecodedTensorType;
  sparse_tensor_type?: DecodedTensorType;
  sequence_type?: unknown;
  map_type?: unknown;
  optional_type?: unknown;
}

export interface DecodedValueInfo {
  name?: string;
  type?: DecodedTypeProto;
}

export interface DecodedModelMeta {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  opset_import: { domain?: string; version?: number }[];
  metadata_props: DecodedStringEntry[];
}

/** Wire types each field number of a message may arrive with (both encodings for packable repeated). */
export function wireTypes(type: protobuf.Type): ReadonlyMap<number, readonly number[]> {
  const out = new Map<number, readonly number[]>();
  const basic = protobuf.types.basic as Readonly<Record<string, number>>;
  for (const field of type.fieldsArray) {
    const wire = basic[field.type] ?? (field.resolvedType instanceof protobuf.Enum ? 0 : 2);
    out.set(field.id, field.repeated && wire !== 2 ? [wire, 2] : [wire]);
  }
  return out;
}
