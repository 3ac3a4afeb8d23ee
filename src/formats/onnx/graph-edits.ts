// Structural edits the splicing writer can make beyond replacing an initializer's bytes, for a graph
// bound to weights of another layout (src/inference/graph-binding.ts): an initializer with new dims
// (a classifier head of another class count), new initializers (one per use of an initializer the
// exporter deduplicated), node inputs pointed at them, and graph outputs whose dims become symbolic.
// Each edit re-encodes only the field it touches; everything else is copied as it was. Encoded with
// protobufjs's Writer by hand (its generated encoders need eval, which the studio's CSP refuses).
import protobuf from 'protobufjs/light.js';
import { dtypeBytes, elementCount } from '../dtype';
import type { TensorData, TensorName } from '../tensor';
import { decodePlain } from './decode';
import type { OnnxCheckpoint } from './reader';
import { FIELD, ValueInfoProto } from './schema';
import { lengthPrefix, walkFields, type FieldSpan } from './wire';

/** New data for an initializer: exactly its byte length, in its own dtype (little-endian, row-major). */
export type OnnxReplacement = Uint8Array | TensorData;

/** A new initializer: the data type (and doc_string) of `like`, its own name, dims and data. */
export interface OnnxAddedInitializer {
  readonly name: TensorName;
  readonly like: TensorName;
  readonly dims: readonly number[];
  /** Exactly the dims' byte length in `like`'s dtype. */
  readonly data: Uint8Array | TensorData;
}

export interface OnnxGraphEdits {
  /** New dims for initializers given in `replacements` (their data is sized by these dims). */
  readonly dims?: ReadonlyMap<TensorName, readonly number[]>;
  /** Initializers to add, after the graph's own (always inline raw_data). */
  readonly added?: readonly OnnxAddedInitializer[];
  /** Node inputs to point at another value: node index (graph order) → input index → name. */
  readonly nodeInputs?: ReadonlyMap<number, ReadonlyMap<number, string>>;
  /** Graph outputs whose dims become symbolic: output name → dim index → dim_param. */
  readonly outputDims?: ReadonlyMap<string, ReadonlyMap<number, string>>;
}

const T = FIELD.tensor;

/** A TensorProto's kept fields (dims, data_type, name, doc_string…) with other dims and, optionally, another name. */
export function rewriteKeep(keep: Uint8Array, dims: readonly number[], name?: string): Uint8Array {
  const fields = walkFields(keep, 0, keep.byteLength, false).filter(
    (f) => f.id !== T.dims && (name === undefined || f.id !== T.name),
  );
  const w = protobuf.Writer.create();
  if (dims.length) {
    w.uint32((T.dims << 3) | 2).fork();
    for (const d of dims) w.int64(d);
    w.ldelim();
  }
  if (name !== undefined) w.uint32((T.name << 3) | 2).string(name);
  const head = w.finish();
  return concat([head, ...fields.map((f) => keep.subarray(f.start, f.end))]);
}

/** A NodeProto (the value of a `node` field) with some of its inputs renamed, other fields verbatim. */
export function rewriteNode(
  buf: Uint8Array,
  span: FieldSpan,
  inputs: ReadonlyMap<number, string>,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let input = 0;
  for (const f of walkFields(buf, span.value, span.end, false)) {
    const rename = f.id === FIELD.node.input && f.wire === 2 ? inputs.get(input++) : undefined;
    parts.push(
      rename === undefined
        ? buf.subarray(f.start, f.end)
        : protobuf.Writer.create()
            .uint32((FIELD.node.input << 3) | 2)
            .string(rename)
            .finish(),
    );
  }
  return concat(parts);
}

interface DecodedDim {
  dim_value?: number;
  dim_param?: string;
  denotation?: string;
}
interface DecodedOutput {
  name?: string;
  doc_string?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim: DecodedDim[] } }; denotation?: string };
}

/**
 * A graph output (the value of an `output` field) with some dims made symbolic. Only tensor outputs
 * are edited: name, element type, dims (with their denotations) and doc_string are written again.
 * Returns undefined for an output that is not a tensor with a shape (nothing to relax).
 */
export function rewriteOutput(
  buf: Uint8Array,
  span: FieldSpan,
  params: ReadonlyMap<number, string>,
): Uint8Array | undefined {
  const v = decodePlain(ValueInfoProto, buf.subarray(span.value, span.end)) as DecodedOutput;
  const tensor = v.type?.tensor_type;
  if (!tensor?.shape) return undefined;
  const w = protobuf.Writer.create();
  if (v.name !== undefined) w.uint32((1 << 3) | 2).string(v.name);
  w.uint32((2 << 3) | 2).fork(); // type
  w.uint32((1 << 3) | 2).fork(); // tensor_type
  if (tensor.elem_type !== undefined) w.uint32(1 << 3).int32(tensor.elem_type);
  w.uint32((2 << 3) | 2).fork(); // shape
  tensor.shape.dim.forEach((d, i) => {
    w.uint32((1 << 3) | 2).fork();
    const param = params.get(i) ?? d.dim_param;
    if (params.has(i) || d.dim_value === undefined) {
      if (param !== undefined) w.uint32((2 << 3) | 2).string(param);
    } else w.uint32(1 << 3).int64(d.dim_value);
    if (d.denotation !== undefined) w.uint32((3 << 3) | 2).string(d.denotation);
    w.ldelim();
  });
  w.ldelim().ldelim();
  if (v.type?.denotation !== undefined) w.uint32((6 << 3) | 2).string(v.type.denotation);
  w.ldelim();
  if (v.doc_string !== undefined) w.uint32((3 << 3) | 2).string(v.doc_string);
  return w.finish();
}

/** A field re-encoded whole: a node with renamed inputs, an output with symbolic dims. */
export interface Splice {
  readonly start: number;
  readonly end: number;
  readonly bytes: Uint8Array;
}

/** An added initializer: its field up to the data, then the data (always inline raw_data). */
export interface Added {
  readonly head: Uint8Array;
  readonly data: OnnxReplacement;
  readonly byteLength: number;
  readonly name: TensorName;
}

/** The node and output fields re-encoded, and the added initializers' fields, for `edits`. */
export async function structuralEdits(
  original: OnnxCheckpoint,
  edits: OnnxGraphEdits,
  fail: (problem: string) => never,
): Promise<{ splices: Splice[]; added: Added[] }> {
  const layout = original.layout;
  const splices: Splice[] = [];
  const field = (id: number, value: Uint8Array) => concat([lengthPrefix(id, value.byteLength), value]);
  const read = async (span: FieldSpan) => ({
    buf: await layout.source.read(span.start, span.end - span.start),
    local: {
      ...span,
      start: 0,
      tagEnd: span.tagEnd - span.start,
      value: span.value - span.start,
      end: span.end - span.start,
    },
  });
  for (const [node, inputs] of edits.nodeInputs ?? []) {
    const span = layout.nodes[node] as FieldSpan;
    const { buf, local } = await read(span);
    splices.push({
      start: span.start,
      end: span.end,
      bytes: field(FIELD.graph.node, rewriteNode(buf, local, inputs)),
    });
  }
  for (const [name, params] of edits.outputDims ?? []) {
    const index = original.outputs.findIndex((o) => o.name === name);
    const span = layout.outputs[index] as FieldSpan;
    const { buf, local } = await read(span);
    const bytes = rewriteOutput(buf, local, params) ?? fail(`output '${name}' is not a tensor with a shape`);
    splices.push({ start: span.start, end: span.end, bytes: field(FIELD.graph.output, bytes) });
  }
  const keepOf = new Map(layout.initializers.map((i) => [i.name as string, i.keep]));
  const added: Added[] = [];
  for (const a of edits.added ?? []) {
    const entry = original.tensors.get(a.like);
    const keep = rewriteKeep(keepOf.get(a.like) ?? new Uint8Array(0), a.dims, a.name);
    const byteLength = (elementCount(a.dims) ?? 0) * dtypeBytes(entry?.dtype ?? 'F32');
    const dataFields = lengthPrefix(FIELD.tensor.rawData, byteLength);
    const head = concat([
      lengthPrefix(FIELD.graph.initializer, keep.byteLength + dataFields.byteLength + byteLength),
      keep,
      dataFields,
    ]);
    added.push({ head, data: a.data, byteLength, name: a.name });
  }
  return { splices, added };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
