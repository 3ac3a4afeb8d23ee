// The GPU LoRA kernel tests' inputs and check: seeded f32 values over the range the shader takes,
// LoRA factors from them, and the kernel held bit for bit to its CPU twin (src/peft/kernel.ts).
import { expect } from 'vitest';
import { loraDelta, type LoraFactors, type LoraKernel } from '../../peft/kernel';
/** A seeded generator of f32 values in the shader's range: ±0 now and then, exponents mostly near 0. */
export function values(
  n: number,
  seed: number,
  opts: { coarse?: boolean; zeros?: boolean; spread?: boolean } = {},
) {
  let s = seed >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const sign = next() & 0x80000000;
    if (opts.zeros !== false && next() % 9 === 0) {
      bits[i] = sign; // ±0
      continue;
    }
    const wide = opts.spread !== false && next() % 10 === 0;
    const exponent = wide ? (next() % 60) - 30 : (next() % 10) - 8; // [-30, 29] or [-8, 1]
    const fraction = next() & (opts.coarse ? 0x700000 : 0x7fffff);
    bits[i] = (sign | ((exponent + 127) << 23) | fraction) >>> 0;
  }
  return new Float32Array(bits.buffer);
}

export const bitsOf = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

export function factors(
  rows: number,
  cols: number,
  r: number,
  scale: number,
  fanInFanOut: boolean,
  seed: number,
  coarse = false,
): LoraFactors {
  // (out, in) as the module sees them: the stored weight is (in, out) with fan_in_fan_out.
  const [out, inn] = fanInFanOut ? [cols, rows] : [rows, cols];
  return {
    name: `w${seed}`,
    a: values(r * inn, seed * 3 + 1, { coarse }),
    b: values(out * r, seed * 3 + 2, { coarse }),
    r,
    cols,
    scale,
    fanInFanOut,
  };
}

export async function expectTwin(kernel: LoraKernel, f: LoraFactors, w: Float32Array, first: number) {
  const got = await kernel.adapt(f, w, first);
  const want = loraDelta(w, first, f.cols, f.a, f.b, f.r, f.scale, f.fanInFanOut);
  expect(bitsOf(got)).toEqual(bitsOf(want));
}
