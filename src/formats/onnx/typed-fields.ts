// TensorProto's typed data fields (float_data, int32_data, int64_data, double_data, uint64_data)
// turned into little-endian bytes in the tensor's own dtype, as raw_data would hold them.
import { dtypeBytes, type DType } from '../dtype';
import type { TypedField } from './data-types';
import { countVarints, varint64, WireError, type FieldSpan } from './wire';

export type TypedData =
  /** One packed run already laid out as the tensor's bytes: read it from the file, lazily. */
  | { readonly kind: 'range'; readonly offset: number; readonly count: number }
  /** Converted now; the bytes are kept (typed fields are small in practice). */
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array<ArrayBuffer>; readonly count: number };

/** The packed or unpacked occurrences of one field, each a run of values of `width` bytes or varints. */
function fixedCount(spans: readonly FieldSpan[], width: number): number {
  let n = 0;
  for (const s of spans) {
    const length = s.end - s.value;
    if (length % width !== 0)
      throw new WireError(
        false,
        `a packed field of ${length} bytes is not a whole number of ${width}-byte values`,
      );
    n += length / width;
  }
  return n;
}

function varintCount(buf: Uint8Array, spans: readonly FieldSpan[]): number {
  let n = 0;
  for (const s of spans) n += countVarints(buf, s.value, s.end);
  return n;
}

/**
 * Converts a typed field's occurrences (`spans`, in file order; each packed or a single value) to
 * bytes of `dtype`. `field` is the field ONNX keeps this data type in (data-types.ts).
 */
export function typedData(
  buf: Uint8Array,
  spans: readonly FieldSpan[],
  field: TypedField,
  dtype: DType,
): TypedData {
  if (field === 'float_data' || field === 'double_data') {
    const width = field === 'float_data' ? 4 : 8;
    const count = fixedCount(spans, width);
    // FLOAT in float_data / DOUBLE in double_data: the packed run is the raw little-endian data.
    const only = spans[0];
    if (spans.length === 1 && only !== undefined && only.wire === 2)
      return { kind: 'range', offset: only.value, count };
    const bytes = new Uint8Array(count * width);
    let at = 0;
    for (const s of spans) {
      bytes.set(buf.subarray(s.value, s.end), at);
      at += s.end - s.value;
    }
    return { kind: 'bytes', bytes, count };
  }
  if (field === 'string_data') throw new WireError(false, 'string_data is not converted to bytes');

  const count = varintCount(buf, spans);
  const size = dtypeBytes(dtype);
  const bytes = new Uint8Array(count * size);
  const view = new DataView(bytes.buffer);
  let i = 0;
  for (const s of spans) {
    let pos = s.value;
    while (pos < s.end) {
      const [value, next] = varint64(buf, pos, s.end);
      pos = next;
      const at = i * size;
      if (field === 'int64_data') view.setBigInt64(at, BigInt.asIntN(64, value), true);
      else if (field === 'uint64_data') {
        if (size === 8) view.setBigUint64(at, value, true);
        else view.setUint32(at, Number(BigInt.asUintN(32, value)), true);
      } else {
        // int32_data: one value per int32 whatever the width (f16/bf16 as their bit patterns).
        const low = Number(BigInt.asUintN(32, value));
        if (dtype === 'BOOL') view.setUint8(at, low !== 0 ? 1 : 0);
        else if (size === 1) view.setUint8(at, low & 0xff);
        else if (size === 2) view.setUint16(at, low & 0xffff, true);
        else view.setUint32(at, low, true);
      }
      i++;
    }
  }
  return { kind: 'bytes', bytes, count };
}
