// A protobuf decoder that interprets protobufjs's reflection instead of running generated code.
// protobufjs compiles each type's decoder with `new Function` on first use, which a
// Content-Security-Policy without 'unsafe-eval' refuses (the studio's build has none: scripts/csp.ts),
// so ONNX files failed to open in the built studio. This walks the same schema with protobufjs's
// Reader (plain code) and gives the plain objects Type.toObject gives with
// { longs: Number, enums: Number, arrays: true }: onnx.proto's own field names (keepCase), 64-bit
// integers as numbers, enums as numbers, every repeated field an array, absent fields absent.
import protobuf from 'protobufjs/light.js';

/** protoc's default recursion limit, which protobufjs's generated decoders use too. */
const RECURSION_LIMIT = 100;
const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

export type PlainMessage = Record<string, unknown>;

interface FieldPlan {
  readonly name: string;
  readonly repeated: boolean;
  /** The wire type the field is encoded with (unpacked); a repeated scalar may also come packed (2). */
  readonly wire: number;
  /** A nested message type, or undefined for scalars and enums. */
  readonly message: protobuf.Type | undefined;
  /** Reads one scalar value. */
  readonly read: ((r: protobuf.Reader) => unknown) | undefined;
}

/** A 64-bit value as a number: protobufjs gives a Long where the `long` package loads, else a number. */
const long = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

const SCALARS: Readonly<Record<string, (r: protobuf.Reader) => unknown>> = {
  double: (r) => r.double(),
  float: (r) => r.float(),
  int32: (r) => r.int32(),
  uint32: (r) => r.uint32(),
  sint32: (r) => r.sint32(),
  fixed32: (r) => r.fixed32(),
  sfixed32: (r) => r.sfixed32(),
  int64: (r) => long(r.int64()),
  uint64: (r) => long(r.uint64()),
  sint64: (r) => long(r.sint64()),
  fixed64: (r) => long(r.fixed64()),
  sfixed64: (r) => long(r.sfixed64()),
  bool: (r) => r.bool(),
  string: (r) => r.string(),
  bytes: (r) => r.bytes(),
};

const plans = new WeakMap<protobuf.Type, ReadonlyMap<number, FieldPlan>>();

function planOf(type: protobuf.Type): ReadonlyMap<number, FieldPlan> {
  let plan = plans.get(type);
  if (plan !== undefined) return plan;
  const fields = new Map<number, FieldPlan>();
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    const message = resolved instanceof protobuf.Type ? resolved : undefined;
    const isEnum = resolved instanceof protobuf.Enum;
    const scalar = isEnum ? SCALARS['int32'] : SCALARS[field.type];
    const basic = (protobuf.types.basic as Readonly<Record<string, number>>)[field.type];
    fields.set(field.id, {
      name: field.name,
      repeated: field.repeated,
      wire:
        message !== undefined
          ? WIRE_LENGTH_DELIMITED
          : isEnum
            ? WIRE_VARINT
            : (basic ?? WIRE_LENGTH_DELIMITED),
      message,
      read: message === undefined ? scalar : undefined,
    });
  }
  plan = fields;
  plans.set(type, plan);
  return plan;
}

/** Decodes `bytes` as one `type` message. Throws (RangeError or Error) on malformed input, as protobufjs does. */
export function decodePlain(type: protobuf.Type, bytes: Uint8Array): PlainMessage {
  const reader = protobuf.Reader.create(bytes);
  return decodeInto(type, reader, reader.len, 0, undefined);
}

function decodeInto(
  type: protobuf.Type,
  r: protobuf.Reader,
  end: number,
  depth: number,
  target: PlainMessage | undefined,
): PlainMessage {
  if (depth > RECURSION_LIMIT) throw new Error('max depth exceeded');
  const plan = planOf(type);
  const out: PlainMessage = target ?? {};
  if (target === undefined) for (const f of plan.values()) if (f.repeated) out[f.name] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    if (id === 0) throw new Error(`illegal tag: field number 0 at offset ${r.pos}`);
    const f = plan.get(id);
    const packed =
      f !== undefined &&
      f.repeated &&
      f.read !== undefined &&
      wire === WIRE_LENGTH_DELIMITED &&
      f.wire !== WIRE_LENGTH_DELIMITED;
    if (
      f === undefined ||
      (f.message === undefined && f.read === undefined) ||
      (wire !== f.wire && !packed)
    ) {
      // Unknown fields, and known ones with another wire type, are skipped as protobufjs skips them.
      r.skipType(wire, depth);
      continue;
    }
    if (f.message !== undefined) {
      const message = f.message;
      const decoded = within(r, end, (stop) =>
        // A singular message given twice is merged, as protobuf does.
        decodeInto(
          message,
          r,
          stop,
          depth + 1,
          f.repeated ? undefined : (out[f.name] as PlainMessage | undefined),
        ),
      );
      if (f.repeated) (out[f.name] as PlainMessage[]).push(decoded);
      else out[f.name] = decoded;
      continue;
    }
    const read = f.read as (r: protobuf.Reader) => unknown;
    if (packed) {
      const values = out[f.name] as unknown[];
      within(r, end, (stop) => {
        while (r.pos < stop) values.push(read(r));
      });
    } else if (f.repeated) {
      (out[f.name] as unknown[]).push(read(r));
    } else {
      out[f.name] = read(r);
    }
  }
  return out;
}

/**
 * Runs `body` over the length-delimited value at the reader's position, with the reader's end
 * moved to the value's end so that nothing inside can read past it; checks it ended exactly there.
 */
function within<T>(r: protobuf.Reader, end: number, body: (stop: number) => T): T {
  const length = r.uint32();
  const stop = r.pos + length;
  if (stop > end) throw new RangeError(`index out of range: ${stop} > ${end}`);
  const saved = r.len;
  r.len = stop;
  try {
    const result = body(stop);
    if (r.pos !== stop) throw new RangeError(`a length-delimited value ends at ${r.pos}, not ${stop}`);
    return result;
  } finally {
    r.len = saved;
  }
}
