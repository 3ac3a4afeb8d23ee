// Opens an .onnx ModelProto: graph inputs/outputs, opsets and producer, and every main-graph
// initializer as a lazily read TensorEntry (raw_data, typed fields, or external data).
//
// How, and what stays in memory: the .onnx bytes are read once to parse them, then let go.
// protobufjs's Reader walks the ModelProto's top level, the GraphProto, and each initializer's
// TensorProto at the wire level (wire.ts) to find where every initializer and its raw_data lie in
// the file. Everything else — the model's fields, the graph's other fields (nodes, inputs, outputs),
// each initializer's dims/data_type/name/external_data — is decoded with the schema types
// (schema.ts) from copies of just those fields' bytes, by decode.ts, which interprets the schema
// rather than running protobufjs's generated decoders (those need eval, which the studio's CSP
// refuses). So:
//   - raw_data keeps only its offset: TensorData.read is a range read of the .onnx ByteSource;
//   - external data is a range read of the file named by `location`, matched by base name;
//   - typed fields (float_data, int32_data, …) are converted to little-endian bytes now and kept,
//     except a single packed float_data/double_data run of a FLOAT/DOUBLE tensor, which is already
//     the raw bytes and stays a range read.
// Only the main graph's `initializer`s become tensors; Constant nodes, subgraphs, training graphs
// and sparse initializers are kept untouched (the writer copies them byte for byte).
//
// Decisions where ONNX leaves room:
//   - initializers of types we do not read (STRING, COMPLEX*, 4-bit, FNUZ floats) and sparse
//     initializers are listed in `skipped`, not errors: the rest of the model still merges;
//   - int32_data keeps each value's low bits in the dtype's width (f16/bf16 bit patterns), BOOL
//     becomes 0/1; uint64_data keeps the low 32 bits for UINT32;
//   - data in raw_data and a typed field at once, or in a typed field of another type, is
//     'unsupported'; a repeated raw_data takes the last occurrence, as protobuf does;
//   - external data without `length` runs to the end of its file (onnx's loader does the same);
//   - graph inputs that are also initializers (IR < 4 lists them) are left out of `inputs`;
//   - IR version ≥ 3 without opset_import is 'not-onnx' (usually a file cut between fields).
//
// This file opens the model; the wire walk is proto-walk.ts, each initializer initializers.ts,
// external data external-files.ts, and the types it hands out types.ts.
import { FormatError } from '../errors';
import { MAX_TENSORS_PER_FILE } from '../limits';
import type { ByteSource } from '../source';
import type { TensorEntry, TensorName } from '../tensor';
import { elemTypeName } from './data-types';
import { ExternalFiles } from './external-files';
import { parseInitializer, type ParsedInitializer } from './initializers';
import { decode, decodeMessage, fieldNames, MODEL_WIRES, walk, walkModel } from './proto-walk';
import {
  FIELD,
  GraphProto,
  ModelProto,
  wireTypes,
  type DecodedModelMeta,
  type DecodedValueInfo,
} from './schema';
import type { OnnxCheckpoint, OnnxExternalFiles, OnnxSkipped, OnnxValueInfo } from './types';
import { copyFields, walkFields, type FieldSpan } from './wire';

export type {
  InitializerLayout,
  OnnxCheckpoint,
  OnnxExternalFiles,
  OnnxLayout,
  OnnxNode,
  OnnxOpset,
  OnnxSkipped,
  OnnxValueInfo,
} from './types';
export { baseName } from './external-files';

/** A protobuf this big cannot be valid (protobuf's 2 GB cap, which onnxruntime enforces too). */
export const MAX_ONNX_PROTO_BYTES = 2 ** 31 - 1;

const GRAPH_WIRES = wireTypes(GraphProto);
const GRAPH_FIELD_NAMES = fieldNames(GraphProto);

/**
 * Is this ONNX? By name (`.onnx`), else by content: the first field is `ir_version` (what every
 * exporter writes first) and every complete field in `first` is a ModelProto field of the right wire type.
 */
export function matchOnnx(first: Uint8Array, fileName: string): boolean {
  if (/\.onnx$/i.test(fileName)) return true;
  let fields: FieldSpan[];
  try {
    fields = walkFields(first, 0, first.byteLength, true, true);
  } catch {
    return false;
  }
  const head = fields[0];
  if (head === undefined || head.id !== 1 || head.wire !== 0) return false;
  return fields.every((f) => MODEL_WIRES.get(f.id)?.includes(f.wire) === true);
}

export async function openOnnx(model: ByteSource, others: OnnxExternalFiles = []): Promise<OnnxCheckpoint> {
  const file = model.name;
  if (model.size === 0) throw new FormatError('not-onnx', file, 'the file is empty, not an ONNX model');
  if (model.size > MAX_ONNX_PROTO_BYTES) {
    throw new FormatError(
      'unsupported',
      file,
      `the file is ${model.size} bytes, over protobuf's 2 GB limit for an ONNX model: save it with external data`,
    );
  }
  const buf = await model.read(0, model.size);

  // The ModelProto's top level, then the graph's fields.
  const top = walkModel(file, buf);
  const graphs = top.filter((f) => f.id === FIELD.model.graph);
  const graph = graphs[0];
  if (graph === undefined) {
    throw new FormatError('not-onnx', file, 'a protobuf message without a graph: not an ONNX model');
  }
  if (graphs.length > 1)
    throw new FormatError('unsupported', file, 'the model has more than one graph field');
  const meta = decode<DecodedModelMeta>(
    file,
    'ModelProto',
    ModelProto,
    copyFields(
      buf,
      top.filter((f) => f !== graph),
    ),
  );

  if ((meta.ir_version ?? 0) >= 3 && meta.opset_import.length === 0) {
    throw new FormatError(
      'not-onnx',
      file,
      `not a valid ONNX model: IR version ${meta.ir_version} needs opset_import, and it has none (is the file truncated?)`,
    );
  }

  const graphFields = walk(file, 'the graph', buf, graph.value, graph.end, GRAPH_WIRES, GRAPH_FIELD_NAMES);
  const initFields = graphFields.filter((f) => f.id === FIELD.graph.initializer);
  const graphMessage = decodeMessage(
    file,
    'GraphProto',
    GraphProto,
    copyFields(
      buf,
      graphFields.filter((f) => f.id !== FIELD.graph.initializer),
    ),
  );

  // Bounded before any per-initializer work (src/formats/limits.ts).
  if (initFields.length > MAX_TENSORS_PER_FILE)
    throw new FormatError(
      'unsupported',
      file,
      `the graph has ${initFields.length} initializers, over the ${MAX_TENSORS_PER_FILE} one file may hold here (a bound on the memory one model may cost)`,
    );
  // Initializers: layout and data of each, then the names must be unique.
  const resolver = new ExternalFiles(file, others);
  const parsed: ParsedInitializer[] = [];
  for (const [i, span] of initFields.entries()) parsed.push(parseInitializer(model, buf, span, i, resolver));
  const seen = new Set<string>();
  for (const p of parsed) {
    if (seen.has(p.layout.name)) {
      throw new FormatError('duplicate-name', file, `two initializers are named '${p.layout.name}'`);
    }
    seen.add(p.layout.name);
  }

  const tensors = new Map<TensorName, TensorEntry>();
  const skipped: OnnxSkipped[] = [];
  for (const p of parsed) {
    if (p.entry !== null) tensors.set(p.entry.name, p.entry);
    if (p.skipped !== null) skipped.push(p.skipped);
  }
  const g = graphMessage as {
    name?: string;
    input?: DecodedValueInfo[];
    output?: DecodedValueInfo[];
    node?: { name?: string; op_type?: string; domain?: string; input?: string[]; output?: string[] }[];
    sparse_initializer?: { values?: { name?: string } }[];
  };
  const sparseNames: string[] = [];
  for (const s of g.sparse_initializer ?? []) {
    const name = s.values?.name ?? '';
    sparseNames.push(name);
    skipped.push({
      name,
      dataType: 'SPARSE',
      reason: 'sparse initializers are kept as they are, not merged',
    });
  }
  const initializerNames = new Set<string>([...seen, ...sparseNames]);
  const inputs = (g.input ?? []).map(valueInfo).filter((v) => !initializerNames.has(v.name));
  const outputs = (g.output ?? []).map(valueInfo);

  return {
    format: 'onnx',
    files: [file, ...resolver.used()],
    tensors,
    metadata: new Map(meta.metadata_props.map((p) => [p.key ?? '', p.value ?? ''])),
    irVersion: meta.ir_version ?? null,
    producer: { name: meta.producer_name ?? '', version: meta.producer_version ?? '' },
    opsetImports: meta.opset_import.map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    graphName: g.name ?? '',
    inputs,
    outputs,
    nodes: (g.node ?? []).map((n) => ({
      name: n.name ?? '',
      opType: n.op_type ?? '',
      domain: n.domain ?? '',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
    })),
    skipped,
    layout: {
      source: model,
      graph,
      initializers: parsed.map((p) => p.layout),
      nodes: graphFields.filter((f) => f.id === FIELD.graph.node),
      outputs: graphFields.filter((f) => f.id === FIELD.graph.output),
    },
  };
}

function valueInfo(v: DecodedValueInfo): OnnxValueInfo {
  const t = v.type;
  const tensor = t?.tensor_type ?? t?.sparse_tensor_type;
  const kind: OnnxValueInfo['kind'] = t?.tensor_type
    ? 'tensor'
    : t?.sparse_tensor_type
      ? 'sparse-tensor'
      : t?.sequence_type
        ? 'sequence'
        : t?.map_type
          ? 'map'
          : t?.optional_type
            ? 'optional'
            : 'unknown';
  return {
    name: v.name ?? '',
    kind,
    elemType: tensor?.elem_type === undefined ? null : elemTypeName(tensor.elem_type),
    shape: tensor?.shape ? tensor.shape.dim.map((d) => d.dim_value ?? d.dim_param ?? null) : null,
  };
}
