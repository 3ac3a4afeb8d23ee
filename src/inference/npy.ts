// NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C order: the header's
// dict is parsed (it is a Python literal, not JSON) and the data converted to float32 for a model.

export class NpyError extends Error {
  override readonly name = 'NpyError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface NpyArray {
  /** NumPy's dtype string, e.g. '<f4'. */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The values as float32 (booleans as 0/1, integers rounded to the nearest float32). */
  readonly data: Float32Array;
  /**
   * The values as stored, for what float32 cannot hold exactly (int64 labels, say): float16 as its
   * bits, booleans as 0/1 bytes. For '<f4' the same array as `data`.
   */
  readonly raw: NpyRaw;
}

export type NpyRaw =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Reader = (view: DataView, at: number) => number;
interface DtypeReader {
  readonly size: number;
  readonly read: Reader;
  /** A copy of `count` stored values from a byte offset (copied: the offset need not be aligned). */
  readonly raw: (bytes: Uint8Array, at: number, count: number) => NpyRaw;
}
const copy = <T>(make: (buffer: ArrayBuffer) => T, bytes: Uint8Array, at: number, length: number): T =>
  make(bytes.slice(at, at + length).buffer);
const READERS: Record<string, DtypeReader> = {
  '<f4': {
    size: 4,
    read: (v, a) => v.getFloat32(a, true),
    raw: (b, a, n) => copy((x) => new Float32Array(x), b, a, 4 * n),
  },
  '<f8': {
    size: 8,
    read: (v, a) => v.getFloat64(a, true),
    raw: (b, a, n) => copy((x) => new Float64Array(x), b, a, 8 * n),
  },
  '<f2': {
    size: 2,
    read: (v, a) => halfToFloat(v.getUint16(a, true)),
    raw: (b, a, n) => copy((x) => new Uint16Array(x), b, a, 2 * n),
  },
  '<i8': {
    size: 8,
    read: (v, a) => Number(v.getBigInt64(a, true)),
    raw: (b, a, n) => copy((x) => new BigInt64Array(x), b, a, 8 * n),
  },
  '<i4': {
    size: 4,
    read: (v, a) => v.getInt32(a, true),
    raw: (b, a, n) => copy((x) => new Int32Array(x), b, a, 4 * n),
  },
  '<i2': {
    size: 2,
    read: (v, a) => v.getInt16(a, true),
    raw: (b, a, n) => copy((x) => new Int16Array(x), b, a, 2 * n),
  },
  '|i1': {
    size: 1,
    read: (v, a) => v.getInt8(a),
    raw: (b, a, n) => copy((x) => new Int8Array(x), b, a, n),
  },
  '|u1': { size: 1, read: (v, a) => v.getUint8(a), raw: (b, a, n) => b.slice(a, a + n) },
  '|b1': {
    size: 1,
    read: (v, a) => (v.getUint8(a) ? 1 : 0),
    raw: (b, a, n) => b.slice(a, a + n).map((x) => (x ? 1 : 0)),
  },
};

/**
 * The reader for a descr: '=' (native) is little-endian on every platform we run on, and a
 * one-byte type has no byte order, so '<i1', '=u1', '>b1' are '|i1', '|u1', '|b1'.
 */
function readerFor(descr: string): DtypeReader | undefined {
  const order = descr[0];
  const type = descr.slice(1);
  if (['i1', 'u1', 'b1'].includes(type) && ['<', '>', '=', '|'].includes(order ?? ''))
    return READERS[`|${type}`];
  return READERS[order === '=' ? `<${type}` : descr];
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Parses the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
function parseHeader(file: string, text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined)
    throw new NpyError(file, `the header is not a NumPy header: ${text.trim().slice(0, 80)}`);
  const dims = shape
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  if (dims.some((d) => !Number.isSafeInteger(d)))
    throw new NpyError(file, `the shape (${shape}) is not whole numbers`);
  return { descr, fortran: fortran === 'True', shape: dims };
}

export function parseNpy(bytes: Uint8Array, file = 'array.npy'): NpyArray {
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(file, 'not a .npy file (no \\x93NUMPY magic)');
  if (bytes.length < 10) throw new NpyError(file, 'truncated in its header');
  const major = bytes[6] as number;
  if (major < 1 || major > 3)
    throw new NpyError(file, `.npy format version ${major}.${bytes[7]} is not one we read`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new NpyError(file, 'truncated in its header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length)
    throw new NpyError(file, `truncated: the header says ${headerLength} bytes, the file ends first`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(8 + lengthBytes, dataStart),
  );
  const { descr, fortran, shape } = parseHeader(file, text);
  if (fortran)
    throw new NpyError(file, 'the array is in Fortran order; save it in C order (np.ascontiguousarray)');
  const reader = readerFor(descr);
  if (!reader && descr.startsWith('>'))
    throw new NpyError(file, `big-endian data (${descr}) is not supported; save it little-endian`);
  if (!reader)
    throw new NpyError(file, `dtype ${descr} is not supported (float16/32/64, int8–64, uint8, bool are)`);
  const count = shape.reduce((a, d) => a * d, 1);
  const need = count * reader.size;
  if (bytes.length - dataStart < need)
    throw new NpyError(
      file,
      `truncated: shape (${shape.join(', ')}) needs ${need} bytes of data, the file has ${bytes.length - dataStart}`,
    );
  // More bytes than the shape needs: the header and the data disagree, so neither can be trusted.
  if (bytes.length - dataStart > need)
    throw new NpyError(
      file,
      `shape (${shape.join(', ')}) of ${descr} needs ${need} bytes of data, the file has ${bytes.length - dataStart}`,
    );
  const raw = reader.raw(bytes, dataStart, count);
  if (raw instanceof Float32Array) return { dtype: descr, shape, data: raw, raw };
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = reader.read(view, dataStart + i * reader.size);
  return { dtype: descr, shape, data, raw };
}
