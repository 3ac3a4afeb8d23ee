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
import type protobuf from 'protobufjs/light.js';
import { dtypeBytes, elementCount, type DType } from '../dtype';
import { FormatError, type FormatErrorCode } from '../errors';
import { MAX_TENSORS_PER_FILE } from '../limits';
import type { ByteSource } from '../source';
import {
  checkTensorRange,
  sourceRangeData,
  tensorName,
  type Checkpoint,
  type TensorData,
  type TensorEntry,
  type TensorName,
} from '../tensor';
import { elemTypeName, onnxDataType } from './data-types';
import {
  EXTERNAL,
  FIELD,
  GraphProto,
  ModelProto,
  TensorProto,
  wireTypes,
  type DecodedModelMeta,
  type DecodedTensorMeta,
  type DecodedValueInfo,
} from './schema';
import { decodePlain, type PlainMessage } from './decode';
import { typedData } from './typed-fields';
import { copyFields, walkFields, WireError, type FieldSpan } from './wire';

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

/** A protobuf this big cannot be valid (protobuf's 2 GB cap, which onnxruntime enforces too). */
export const MAX_ONNX_PROTO_BYTES = 2 ** 31 - 1;

const MODEL_WIRES = wireTypes(ModelProto);
const GRAPH_WIRES = wireTypes(GraphProto);
const TENSOR_WIRES = wireTypes(TensorProto);
const F = FIELD.tensor;
const INLINE_DATA_FIELDS: ReadonlySet<number> = new Set([
  F.floatData,
  F.int32Data,
  F.stringData,
  F.int64Data,
  F.rawData,
  F.doubleData,
  F.uint64Data,
]);
const TYPED_FIELD_IDS = {
  float_data: F.floatData,
  int32_data: F.int32Data,
  string_data: F.stringData,
  int64_data: F.int64Data,
  double_data: F.doubleData,
  uint64_data: F.uint64Data,
} as const;
const fieldNames = (type: protobuf.Type): ReadonlyMap<number, string> =>
  new Map(type.fieldsArray.map((f) => [f.id, f.name]));
const MODEL_FIELD_NAMES = fieldNames(ModelProto);
const GRAPH_FIELD_NAMES = fieldNames(GraphProto);
const TENSOR_FIELD_NAMES = fieldNames(TensorProto);

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

// --- the wire walk ------------------------------------------------------------------------------

function walkModel(file: string, buf: Uint8Array): FieldSpan[] {
  let fields: FieldSpan[];
  try {
    fields = walkFields(buf, 0, buf.byteLength, true, false, MODEL_FIELD_NAMES);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    // A file that stops mid-field is "truncated" only if it started out as a ModelProto.
    if (e.truncated && startsLikeModel(buf)) {
      throw new FormatError('truncated', file, `the file is truncated: ${e.message}`, { cause: e });
    }
    throw new FormatError('not-onnx', file, `not an ONNX model (not a protobuf ModelProto: ${e.message})`, {
      cause: e,
    });
  }
  checkWires(file, 'ModelProto', fields, MODEL_WIRES);
  return fields;
}

function startsLikeModel(buf: Uint8Array): boolean {
  try {
    const head = walkFields(buf, 0, buf.byteLength, true, true)[0];
    return head !== undefined && MODEL_WIRES.get(head.id)?.includes(head.wire) === true;
  } catch {
    return false;
  }
}

/** Fields of a nested message; its length was declared, so running past it is malformed, not truncated. */
function walk(
  file: string,
  what: string,
  buf: Uint8Array,
  start: number,
  end: number,
  wires: ReadonlyMap<number, readonly number[]>,
  names: ReadonlyMap<number, string>,
): FieldSpan[] {
  let fields: FieldSpan[];
  try {
    fields = walkFields(buf, start, end, false, false, names);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    throw new FormatError('not-onnx', file, `${what} is not a valid protobuf message: ${e.message}`, {
      cause: e,
    });
  }
  checkWires(file, what, fields, wires);
  return fields;
}

/** protobufjs's decoders trust the wire type of a known field; we check it first. */
function checkWires(
  file: string,
  what: string,
  fields: readonly FieldSpan[],
  wires: ReadonlyMap<number, readonly number[]>,
): void {
  for (const f of fields) {
    const allowed = wires.get(f.id);
    if (allowed !== undefined && !allowed.includes(f.wire)) {
      throw new FormatError(
        'not-onnx',
        file,
        `not an ONNX model: field ${f.id} of ${what} at byte ${f.start} has wire type ${f.wire}, expected ${allowed.join(' or ')}`,
      );
    }
  }
}

function decodeMessage(file: string, what: string, type: protobuf.Type, bytes: Uint8Array): PlainMessage {
  try {
    return decodePlain(type, bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new FormatError('not-onnx', file, `not an ONNX model: its ${what} does not decode (${why})`, {
      cause: e,
    });
  }
}

/** Decodes to a plain object; T lists the fields we read (schema.ts). */
function decode<T>(file: string, what: string, type: protobuf.Type, bytes: Uint8Array): T {
  return decodeMessage(file, what, type, bytes) as T;
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

// --- initializers --------------------------------------------------------------------------------

interface ParsedInitializer {
  readonly layout: InitializerLayout;
  readonly entry: TensorEntry | null;
  readonly skipped: OnnxSkipped | null;
}

function parseInitializer(
  model: ByteSource,
  buf: Uint8Array,
  span: FieldSpan,
  index: number,
  files: ExternalFiles,
): ParsedInitializer {
  const file = model.name;
  const fields = walk(
    file,
    `initializer #${index}`,
    buf,
    span.value,
    span.end,
    TENSOR_WIRES,
    TENSOR_FIELD_NAMES,
  );
  const meta = decode<DecodedTensorMeta>(
    file,
    `initializer #${index}`,
    TensorProto,
    copyFields(
      buf,
      fields.filter((f) => !INLINE_DATA_FIELDS.has(f.id)),
    ),
  );
  const name = tensorName(meta.name ?? '');
  const label = `initializer '${name}'`;
  const fail = (code: FormatErrorCode, problem: string): never => {
    throw new FormatError(code, file, `${label} ${problem}`);
  };

  const shape = meta.dims;
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    fail('bad-shape', `has dims [${shape.join(', ')}]`);
  const count = elementCount(shape) ?? fail('bad-shape', `has dims [${shape.join(', ')}]: too many elements`);

  const type =
    onnxDataType(meta.data_type ?? 0) ??
    fail(
      'unknown-dtype',
      `has data_type ${meta.data_type ?? 0}, which is ${meta.data_type ? 'not an ONNX data type' : 'UNDEFINED'}`,
    );
  if (meta.segment !== undefined)
    fail('unsupported', 'is a segment of a larger tensor (TensorProto.segment)');

  const keep = copyFields(
    buf,
    fields.filter((f) => !INLINE_DATA_FIELDS.has(f.id) && f.id !== F.externalData && f.id !== F.dataLocation),
  );
  const inline = fields.filter((f) => INLINE_DATA_FIELDS.has(f.id));
  const external = meta.data_location === EXTERNAL;
  const dtype = type.dtype;
  const byteLength = dtype === undefined ? undefined : count * dtypeBytes(dtype);
  const skipped: OnnxSkipped | null =
    dtype === undefined ? { name, dataType: type.name, reason: `data type ${type.name} is not read` } : null;

  let data: InitializerLayout['data'];
  let source: string = file;
  if (external) {
    if (inline.length > 0) fail('unsupported', 'has data_location EXTERNAL and inline data too');
    const ext = files.resolve(name, meta.external_data);
    if (byteLength !== undefined && ext.length !== byteLength) {
      fail(
        'size-mismatch',
        `has ${ext.length} bytes of external data in '${ext.source.name}', but dims [${shape.join(', ')}] of ${dtype} need ${byteLength}`,
      );
    }
    source = ext.source.name;
    data = rangeData(ext.source, ext.offset, ext.length);
  } else if (dtype === undefined || byteLength === undefined) {
    data = null; // skipped and inline: the writer copies it verbatim
  } else {
    data = inlineData(model, buf, inline, type.field, dtype, count, byteLength, fail);
  }

  const layout: InitializerLayout = {
    name,
    start: span.start,
    end: span.end,
    keep,
    external,
    exposed: dtype !== undefined,
    data,
  };
  const entry: TensorEntry | null =
    dtype === undefined || data === null
      ? null
      : { name, dtype, shape, byteLength: data.byteLength, file: source, data: { read: data.read } };
  return { layout, entry, skipped };
}

function inlineData(
  model: ByteSource,
  buf: Uint8Array,
  inline: readonly FieldSpan[],
  field: keyof typeof TYPED_FIELD_IDS,
  dtype: DType,
  count: number,
  byteLength: number,
  fail: (code: FormatErrorCode, problem: string) => never,
): NonNullable<InitializerLayout['data']> {
  const ids = new Set(inline.map((f) => f.id));
  const own = TYPED_FIELD_IDS[field];
  for (const id of ids) {
    if (id !== F.rawData && id !== own) {
      fail(
        'unsupported',
        `stores ${dtype} data in ${TENSOR_FIELD_NAMES.get(id) ?? `field ${id}`}, which ONNX uses for other types`,
      );
    }
  }
  if (ids.size > 1) fail('unsupported', `has its data in both raw_data and ${field}`);

  if (ids.has(F.rawData)) {
    // raw_data is a singular field: if it occurs more than once, the last occurrence counts.
    const raw = inline[inline.length - 1] as FieldSpan;
    const length = raw.end - raw.value;
    if (length !== byteLength) {
      fail(
        'size-mismatch',
        `has ${length} bytes of raw_data, but ${count} elements of ${dtype} need ${byteLength}`,
      );
    }
    return rangeData(model, raw.value, length);
  }

  let typed;
  try {
    typed = typedData(buf, inline, field, dtype);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return fail('not-onnx', `has a malformed ${field}: ${e.message}`);
  }
  if (typed.count !== count) {
    fail('size-mismatch', `has ${typed.count} values in ${field}, but its dims need ${count}`);
  }
  if (typed.kind === 'range') return rangeData(model, typed.offset, byteLength);
  const bytes = typed.bytes;
  return {
    byteLength,
    read: async (start, end) => {
      checkTensorRange(model.name, 'the initializer', byteLength, start, end);
      return bytes.slice(start, end);
    },
  };
}

/** A tensor's bytes as the range [offset, offset + length) of a source. */
function rangeData(
  source: ByteSource,
  offset: number,
  length: number,
): NonNullable<InitializerLayout['data']> {
  return { byteLength: length, ...sourceRangeData(source, offset, length, 'the initializer') };
}

// --- external data -------------------------------------------------------------------------------

/** The last path component: `location` may carry a directory, the user gives us files. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

const BYTE_COUNT = /^\d+$/;

/** The files given beside the model, found by base name, and which of them the model used. */
class ExternalFiles {
  private readonly byName = new Map<string, ByteSource[]>();
  private readonly order: ByteSource[] = [];
  private readonly usedSet = new Set<ByteSource>();

  constructor(
    private readonly model: string,
    others: OnnxExternalFiles,
  ) {
    const pairs: [string, ByteSource][] = Array.isArray(others)
      ? (others as readonly ByteSource[]).map((s) => [s.name, s])
      : [...(others as ReadonlyMap<string, ByteSource>)];
    for (const [name, source] of pairs) {
      const key = baseName(name);
      this.byName.set(key, [...(this.byName.get(key) ?? []), source]);
      this.order.push(source);
    }
  }

  resolve(
    name: string,
    entries: readonly { key?: string; value?: string }[],
  ): { source: ByteSource; offset: number; length: number } {
    const info = new Map(entries.map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location');
    const label = `initializer '${name}'`;
    if (location === undefined || location === '') {
      throw new FormatError('missing-file', this.model, `${label} has external data but no location`);
    }
    const candidates = this.byName.get(baseName(location)) ?? [];
    const source = candidates[0];
    if (source === undefined) {
      throw new FormatError(
        'missing-file',
        this.model,
        `${label} keeps its data in '${location}', which was not given: add that file (it lies beside the model)`,
      );
    }
    if (candidates.length > 1) {
      throw new FormatError(
        'duplicate-name',
        this.model,
        `${label} keeps its data in '${location}', and ${candidates.length} files of that name were given`,
      );
    }
    this.usedSet.add(source);
    const number = (key: 'offset' | 'length', fallback: number): number => {
      const text = info.get(key);
      if (text === undefined) return fallback;
      const n = BYTE_COUNT.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(n)) {
        throw new FormatError(
          'out-of-bounds',
          source.name,
          `${label} of ${this.model} has external data ${key} '${text}'`,
        );
      }
      return n;
    };
    const offset = number('offset', 0);
    // Without a length the data runs to the end of the file, as onnx's loader reads it.
    const length = number('length', Math.max(0, source.size - offset));
    if (offset + length > source.size) {
      throw new FormatError(
        'out-of-bounds',
        source.name,
        `${label} of ${this.model} has its data at bytes [${offset}, ${offset + length}), but the file has ${source.size} bytes`,
      );
    }
    return { source, offset, length };
  }

  /** The given files the model read, in the order they were given. */
  used(): string[] {
    return this.order.filter((s) => this.usedSet.has(s)).map((s) => s.name);
  }
}
