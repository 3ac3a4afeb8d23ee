// Test helpers: small ModelProtos built in memory, with exact control over how each initializer's
// fields are laid out on the wire (packed or not, repeated runs, wrong sizes). No node: imports.
import protobuf from 'protobufjs/light.js';
import { GraphProto, ModelProto } from './schema';

export interface TensorSpec {
  readonly name?: string;
  /** Numbers, or decimal strings for values past 2^53. */
  readonly dims?: readonly (number | string)[];
  readonly dataType?: number;
  readonly raw?: Uint8Array;
  readonly floatData?: readonly number[];
  /** float_data as several packed occurrences. */
  readonly floatRuns?: readonly (readonly number[])[];
  readonly int32Data?: readonly number[];
  readonly int64Data?: readonly (number | string)[];
  readonly uint64Data?: readonly (number | string)[];
  readonly doubleData?: readonly number[];
  readonly stringData?: readonly string[];
  /** Typed fields packed (the default, as onnx.proto declares) or one field per value. */
  readonly packed?: boolean;
  readonly external?: Readonly<Record<string, string>>;
  readonly dataLocation?: number;
  readonly docString?: string;
}

function varint(v: bigint): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

const tag = (id: number, wire: number): number[] => varint(BigInt((id << 3) | wire));
const ldelim = (id: number, payload: readonly number[] | Uint8Array): number[] => [
  ...tag(id, 2),
  ...varint(BigInt(payload.length)),
  ...payload,
];
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const f32 = (v: number): number[] => [...new Uint8Array(new Float32Array([v]).buffer)];
const f64 = (v: number): number[] => [...new Uint8Array(new Float64Array([v]).buffer)];

function repeated(id: number, wire: number, values: number[][], packed: boolean): number[] {
  if (values.length === 0) return [];
  if (packed) return ldelim(id, values.flat());
  return values.flatMap((v) => [...tag(id, wire), ...v]);
}

/** The bytes of a TensorProto, fields in field-number order (as protobuf serializers write them). */
export function tensorProto(spec: TensorSpec): Uint8Array {
  const packed = spec.packed ?? true;
  const out: number[] = [];
  for (const d of spec.dims ?? []) out.push(...tag(1, 0), ...varint(BigInt(d)));
  if (spec.dataType !== undefined) out.push(...tag(2, 0), ...varint(BigInt(spec.dataType)));
  if (spec.floatData) out.push(...repeated(4, 5, spec.floatData.map(f32), packed));
  for (const run of spec.floatRuns ?? []) out.push(...ldelim(4, run.flatMap(f32)));
  if (spec.int32Data)
    out.push(
      ...repeated(
        5,
        0,
        spec.int32Data.map((v) => varint(BigInt(v))),
        packed,
      ),
    );
  for (const s of spec.stringData ?? []) out.push(...ldelim(6, utf8(s)));
  if (spec.int64Data)
    out.push(
      ...repeated(
        7,
        0,
        spec.int64Data.map((v) => varint(BigInt(v))),
        packed,
      ),
    );
  if (spec.name !== undefined) out.push(...ldelim(8, utf8(spec.name)));
  if (spec.raw) out.push(...ldelim(9, spec.raw));
  if (spec.doubleData) out.push(...repeated(10, 1, spec.doubleData.map(f64), packed));
  if (spec.uint64Data)
    out.push(
      ...repeated(
        11,
        0,
        spec.uint64Data.map((v) => varint(BigInt(v))),
        packed,
      ),
    );
  if (spec.docString !== undefined) out.push(...ldelim(12, utf8(spec.docString)));
  for (const [key, value] of Object.entries(spec.external ?? {})) {
    out.push(...ldelim(13, [...ldelim(1, utf8(key)), ...ldelim(2, utf8(value))]));
  }
  if (spec.dataLocation !== undefined) out.push(...tag(14, 0), ...varint(BigInt(spec.dataLocation)));
  return new Uint8Array(out);
}

export interface ModelSpec {
  /** Graph fields besides the initializers (protobufjs object form, onnx.proto field names). */
  readonly graph?: Record<string, unknown>;
  /** Model fields besides the graph. */
  readonly model?: Record<string, unknown>;
}

/**
 * A ModelProto with these initializers (TensorProto bytes, in order), an input `x` with a dynamic
 * batch dim, an output `y`, one Identity node, opset 13. The graph is written last.
 */
export function modelBytes(
  initializers: readonly Uint8Array[],
  spec: ModelSpec = {},
): Uint8Array<ArrayBuffer> {
  const graphHead = GraphProto.encode(
    GraphProto.fromObject({
      name: 'g',
      node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
      input: [valueInfo('x', ['batch', 4])],
      output: [valueInfo('y', ['batch', 4])],
      ...spec.graph,
    }),
  ).finish();
  const graph = protobuf.Writer.create();
  graph.uint32((10 << 3) | 2); // doc_string first, so that the initializers sit between other fields
  graph.string('graph doc');
  for (const init of initializers) graph.uint32((5 << 3) | 2).bytes(init);
  const graphBytes = concat([graphHead, graph.finish()]);
  const head = ModelProto.encode(
    ModelProto.fromObject({
      ir_version: 8,
      producer_name: 'testing.ts',
      opset_import: [{ domain: '', version: 13 }],
      ...spec.model,
    }),
  ).finish();
  const tail = protobuf.Writer.create()
    .uint32((7 << 3) | 2)
    .bytes(graphBytes)
    .finish();
  return concat([head, tail]);
}

function valueInfo(name: string, dims: readonly (number | string)[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
