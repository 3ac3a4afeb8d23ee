// Each main-graph initializer of an ONNX model: where it lies in the file (for the writer), its
// dims and data type, and its data — a range of the model (raw_data, or a packed float run), a
// range of an external file, or typed fields converted to little-endian bytes now. Data types we
// do not read are listed as skipped, not refused.
import { dtypeBytes, elementCount, type DType } from '../dtype';
import { FormatError, type FormatErrorCode } from '../errors';
import type { ByteSource } from '../source';
import { checkTensorRange, sourceRangeData, tensorName, type TensorEntry } from '../tensor';
import { onnxDataType } from './data-types';
import type { ExternalFiles } from './external-files';
import { decode, fieldNames, walk } from './proto-walk';
import { EXTERNAL, FIELD, TensorProto, wireTypes, type DecodedTensorMeta } from './schema';
import { typedData } from './typed-fields';
import type { InitializerLayout, OnnxSkipped } from './types';
import { copyFields, WireError, type FieldSpan } from './wire';

const TENSOR_WIRES = wireTypes(TensorProto);
const TENSOR_FIELD_NAMES = fieldNames(TensorProto);
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

export interface ParsedInitializer {
  readonly layout: InitializerLayout;
  readonly entry: TensorEntry | null;
  readonly skipped: OnnxSkipped | null;
}

export function parseInitializer(
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
