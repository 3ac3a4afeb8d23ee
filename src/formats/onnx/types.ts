// The ONNX reader's view of a model (reader.ts makes it; writer.ts and graph-edits.ts read it):
// graph inputs and outputs, opsets, nodes, the initializers handed out as tensors and those
// skipped, and where each initializer lies in the file for the writer.
import type { ByteSource } from '../source';
import type { Checkpoint, TensorData, TensorName } from '../tensor';
import type { FieldSpan } from './wire';

/** A graph input or output. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly kind: 'tensor' | 'sparse-tensor' | 'sequence' | 'map' | 'optional' | 'unknown';
  /** Element type: our DType name where there is one (F32 …), else ONNX's name (STRING …); null if not given. */
  readonly elemType: string | null;
  /** Each dimension: its size, its symbolic name (dim_param, e.g. 'batch'), or null; null when the rank is unknown. */
  readonly shape: readonly (number | string | null)[] | null;
}

export interface OnnxOpset {
  /** '' is the default ONNX domain (ai.onnx). */
  readonly domain: string;
  readonly version: number;
}

/** An initializer the reader does not hand out as a tensor; the writer still keeps it. */
export interface OnnxSkipped {
  readonly name: string;
  /** ONNX's data type name (STRING, COMPLEX64, INT4, …), or SPARSE for a sparse initializer. */
  readonly dataType: string;
  readonly reason: string;
}

/** Where an initializer lies in the model file, for the writer. */
export interface InitializerLayout {
  readonly name: TensorName;
  /** The whole `initializer` field in the .onnx: tag, length prefix and TensorProto. */
  readonly start: number;
  readonly end: number;
  /** The TensorProto's fields other than its data and data location (dims, data_type, name, doc_string, unknown), verbatim. */
  readonly keep: Uint8Array<ArrayBuffer>;
  /** Its data is in an external file. */
  readonly external: boolean;
  /** Handed out in `tensors` (false for skipped initializers). */
  readonly exposed: boolean;
  /** Its data bytes, when the writer can move them (every exposed tensor, and skipped external ones). */
  readonly data: { readonly byteLength: number; readonly read: TensorData['read'] } | null;
}

/** What the writer needs to splice the original bytes. */
export interface OnnxLayout {
  readonly source: ByteSource;
  /** The top-level `graph` field: tag at [start, tagEnd), GraphProto at [value, end). */
  readonly graph: FieldSpan;
  /** Every main-graph initializer in file order, skipped ones included. */
  readonly initializers: readonly InitializerLayout[];
  /** Each main-graph `node` field, in graph order (the order of `OnnxCheckpoint.nodes`). */
  readonly nodes: readonly FieldSpan[];
  /** Each graph `output` field, in order. */
  readonly outputs: readonly FieldSpan[];
}

/** A main-graph node: what binding a graph to weights needs (attributes are not read). */
export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Input value names in order; '' is an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OnnxCheckpoint extends Checkpoint {
  readonly format: 'onnx';
  readonly irVersion: number | null;
  readonly producer: { readonly name: string; readonly version: string };
  readonly opsetImports: readonly OnnxOpset[];
  readonly graphName: string;
  /** Graph inputs that are not initializers (IR < 4 models list initializers as inputs too). */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** The main graph's nodes in order (subgraphs of If/Loop are not listed). */
  readonly nodes: readonly OnnxNode[];
  /** Initializers of data types we do not read (strings, complex, 4-bit, FNUZ floats) and sparse initializers. */
  readonly skipped: readonly OnnxSkipped[];
  /** For writeOnnx; nothing above src/formats should need it. */
  readonly layout: OnnxLayout;
}

/** The other files a model may point at: a name → source map (names or paths) or a list of sources. */
export type OnnxExternalFiles = ReadonlyMap<string, ByteSource> | readonly ByteSource[];
