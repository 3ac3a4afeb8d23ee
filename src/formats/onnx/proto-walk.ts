// The wire-level walk of a ModelProto and its nested messages (wire.ts), with each known field's
// wire type checked before protobufjs-free decoding (decode.ts) of the fields we read as objects:
// a malformed or truncated model is a FormatError naming what did not parse.
import type protobuf from 'protobufjs/light.js';
import { FormatError } from '../errors';
import { decodePlain, type PlainMessage } from './decode';
import { ModelProto, wireTypes } from './schema';
import { walkFields, WireError, type FieldSpan } from './wire';

export const MODEL_WIRES = wireTypes(ModelProto);
export const fieldNames = (type: protobuf.Type): ReadonlyMap<number, string> =>
  new Map(type.fieldsArray.map((f) => [f.id, f.name]));
const MODEL_FIELD_NAMES = fieldNames(ModelProto);

export function walkModel(file: string, buf: Uint8Array): FieldSpan[] {
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
export function walk(
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

export function decodeMessage(
  file: string,
  what: string,
  type: protobuf.Type,
  bytes: Uint8Array,
): PlainMessage {
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
export function decode<T>(file: string, what: string, type: protobuf.Type, bytes: Uint8Array): T {
  return decodeMessage(file, what, type, bytes) as T;
}
