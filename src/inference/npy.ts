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
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Reader = (view: DataView, at: number) => number;
const READERS: Record<string, { size: number; read: Reader }> = {
  '<f4': { size: 4, read: (v, a) => v.getFloat32(a, true) },
  '<f8': { size: 8, read: (v, a) => v.getFloat64(a, true) },
  '<f2': { size: 2, read: (v, a) => halfToFloat(v.getUint16(a, true)) },
  '<i8': { size: 8, read: (v, a) => Number(v.getBigInt64(a, true)) },
  '<i4': { size: 4, read: (v, a) => v.getInt32(a, true) },
  '<i2': { size: 2, read: (v, a) => v.getInt16(a, true) },
  '|i1': { size: 1, read: (v, a) => v.getInt8(a) },
  '|u1': { size: 1, read: (v, a) => v.getUint8(a) },
  '|b1': { size: 1, read: (v, a) => (v.getUint8(a) ? 1 : 0) },
};

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
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new NpyError(file, 'not a .npy file (no \\x93NUMPY magic)');
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
  if (descr.startsWith('>'))
    throw new NpyError(file, `big-endian data (${descr}) is not supported; save it little-endian`);
  const reader = READERS[descr.replace(/^=/, '<')] ?? READERS[descr];
  if (!reader)
    throw new NpyError(file, `dtype ${descr} is not supported (float16/32/64, int8–64, uint8, bool are)`);
  const count = shape.reduce((a, d) => a * d, 1);
  const need = count * reader.size;
  if (bytes.length - dataStart < need)
    throw new NpyError(
      file,
      `truncated: shape (${shape.join(', ')}) needs ${need} bytes of data, the file has ${bytes.length - dataStart}`,
    );
  const data = new Float32Array(count);
  if (descr === '<f4' && (bytes.byteOffset + dataStart) % 4 === 0)
    data.set(new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, count));
  else for (let i = 0; i < count; i++) data[i] = reader.read(view, dataStart + i * reader.size);
  return { dtype: descr, shape, data };
}
