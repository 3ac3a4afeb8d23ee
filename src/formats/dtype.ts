// Element types, their sizes, and the exact conversions of the merge dtypes to and from f32.
// F32, F16 and BF16 are merged (widened to f32 exactly, narrowed with round-to-nearest-even);
// every other dtype is read and passed through untouched.

/** safetensors' dtype names; ONNX element types map onto these (src/formats/onnx). */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type DType = keyof typeof DTYPE_BYTES;
export type MergeDType = 'F32' | 'F16' | 'BF16';

export function isDType(s: string): s is DType {
  return Object.hasOwn(DTYPE_BYTES, s);
}

export function isMergeDType(d: DType): d is MergeDType {
  return d === 'F32' || d === 'F16' || d === 'BF16';
}

export function dtypeBytes(d: DType): number {
  return DTYPE_BYTES[d];
}

/** Number of elements of a shape (1 for a scalar []), or undefined if not a safe integer. */
export function elementCount(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

// --- f16 / bf16 <-> f32, bit exact ---------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** f32 → f16 bits, round to nearest, ties to even; NaN stays NaN, overflow goes to ±Inf. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal f16 (or zero): shift the full significand into place, then round.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // may carry into the exponent: correct
  return sign | r;
}

export function bf16BitsToF32(b: number): number {
  u32[0] = b << 16;
  return f32[0] as number;
}

/** f32 → bf16 bits, round to nearest, ties to even; NaN stays a (quiet) NaN. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0] as number;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Little-endian bytes of a merge dtype → f32 values (exact). Works on unaligned views. */
export function widenToF32(bytes: Uint8Array, dtype: MergeDType): Float32Array<ArrayBuffer> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0)
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype}`);
  const n = bytes.byteLength / size;
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.slice().buffer);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const out = new Float32Array(n);
  if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = f16BitsToF32(view.getUint16(i * 2, true));
  else for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(view.getUint16(i * 2, true));
  return out;
}

/**
 * f32 values → little-endian bytes of a merge dtype, rounding to nearest even. For F32 the bytes
 * are a view of `values` (no copy): copy them before changing `values`.
 */
export function narrowFromF32(values: Float32Array, dtype: MergeDType): Uint8Array<ArrayBuffer> {
  // (Our f32 arrays live in ordinary ArrayBuffers; the cast only narrows the type.)
  if (dtype === 'F32')
    return new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  const convert = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i] as number);
  return new Uint8Array(out.buffer);
}
