// Protobuf wire-level helpers over protobufjs's Reader and Writer: where each field of a message
// lies in the file (so tensor data can stay in the file and the writer can splice bytes), and the
// few varint encodings the writer needs.
import protobuf from 'protobufjs/light.js';

/** One field occurrence inside a message, as absolute byte offsets into the buffer walked. */
export interface FieldSpan {
  /** Field number. */
  readonly id: number;
  /** Wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  readonly wire: number;
  /** Where the tag starts: the field's first byte. */
  readonly start: number;
  /** Where the tag ends (the length prefix or the value starts). */
  readonly tagEnd: number;
  /** Where the value starts: after the length prefix for wire type 2, else tagEnd. */
  readonly value: number;
  /** One past the field's last byte. */
  readonly end: number;
}

/** The bytes do not walk as protobuf; `truncated` when the data simply stops before the end of a field. */
export class WireError extends Error {
  constructor(
    readonly truncated: boolean,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Walks the fields of the message at buf[start, end). `endIsFileEnd`: the message runs to the end
 * of the file (the top-level ModelProto), so a field that runs past `end` means the file was
 * truncated; inside a length-delimited message it means the message is malformed.
 * `stopEarly` ends the walk quietly at the first field that runs past `end` (for sniffing a prefix).
 */
export function walkFields(
  buf: Uint8Array,
  start: number,
  end: number,
  endIsFileEnd: boolean,
  stopEarly = false,
  names?: ReadonlyMap<number, string>,
): FieldSpan[] {
  const reader = new protobuf.Reader(buf);
  reader.pos = start;
  reader.len = end;
  const out: FieldSpan[] = [];
  const overrun = (what: string, at: number): never => {
    const past = endIsFileEnd ? `the end of the file (${end} bytes)` : `the end of its message (byte ${end})`;
    throw new WireError(endIsFileEnd, `${what} at byte ${at} runs past ${past}`);
  };
  // protobufjs's Reader throws a RangeError when a read passes `len`, an Error for a bad encoding.
  const failed = (e: unknown, what: string, at: number): never => {
    if (e instanceof RangeError) return overrun(what, at);
    throw new WireError(false, `${what} at byte ${at}: ${e instanceof Error ? e.message : String(e)}`);
  };
  const label = (id: number): string => (names?.has(id) ? `field ${id} (${names.get(id)})` : `field ${id}`);
  while (reader.pos < end) {
    const fieldStart = reader.pos;
    let tag: number;
    try {
      tag = reader.tag();
    } catch (e) {
      if (stopEarly) break;
      return failed(e, 'a field tag', fieldStart);
    }
    const id = tag >>> 3;
    const wire = tag & 7;
    const tagEnd = reader.pos;
    if (id === 0) throw new WireError(false, `field number 0 at byte ${fieldStart}`);
    let value = tagEnd;
    let fieldEnd: number;
    if (wire === 0) {
      try {
        reader.skip();
      } catch (e) {
        if (stopEarly) break;
        return failed(e, `the varint of ${label(id)}`, fieldStart);
      }
      fieldEnd = reader.pos;
    } else if (wire === 1 || wire === 5) {
      fieldEnd = tagEnd + (wire === 1 ? 8 : 4);
    } else if (wire === 2) {
      let length: number;
      try {
        length = reader.size();
      } catch (e) {
        if (stopEarly) break;
        return failed(e, `the length of ${label(id)}`, fieldStart);
      }
      value = reader.pos;
      fieldEnd = value + length;
    } else {
      throw new WireError(false, `invalid wire type ${wire} for ${label(id)} at byte ${fieldStart}`);
    }
    if (fieldEnd > end) {
      if (stopEarly) break;
      overrun(`${label(id)}, ${fieldEnd - fieldStart} bytes,`, fieldStart);
    }
    reader.pos = fieldEnd;
    out.push({ id, wire, start: fieldStart, tagEnd, value, end: fieldEnd });
  }
  return out;
}

/** Number of varints in a packed run; the last byte must end a varint. */
export function countVarints(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if ((buf[i] as number) < 0x80) n++;
  if (end > start && (buf[end - 1] as number) >= 0x80)
    throw new WireError(false, 'a packed varint run ends mid-varint');
  return n;
}

/**
 * Reads the varint at buf[pos] as an exact unsigned 64-bit BigInt (protobufjs gives int64 as a Long
 * only where the `long` package loads, else as a lossy number). Returns the value and the next position.
 */
export function varint64(buf: Uint8Array, pos: number, end: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = pos; i < end && shift < 70n; i++) {
    const b = buf[i] as number;
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [BigInt.asUintN(64, value), i + 1];
    shift += 7n;
  }
  throw new WireError(false, `a varint at byte ${pos} does not end`);
}

/** The protobuf encoding of an unsigned varint (lengths, tags); exact below 2^53. */
export function encodeVarint(n: number): Uint8Array {
  return protobuf.Writer.create().uint64(n).finish();
}

/** Bytes a varint of n takes (n < 2^53). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Tag and length prefix of a length-delimited field whose value is `length` bytes. */
export function lengthPrefix(id: number, length: number): Uint8Array {
  return protobuf.Writer.create()
    .uint32(((id << 3) | 2) >>> 0)
    .uint64(length)
    .finish();
}

/** A copy of the bytes of some fields, in order: a message of just those fields, to decode or keep. */
export function copyFields(buf: Uint8Array, fields: readonly FieldSpan[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const f of fields) size += f.end - f.start;
  const out = new Uint8Array(size);
  let at = 0;
  for (const f of fields) {
    out.set(buf.subarray(f.start, f.end), at);
    at += f.end - f.start;
  }
  return out;
}
