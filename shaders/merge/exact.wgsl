// Shared by the merge kernels (prepended by src/gpu/programs/chunk.ts after dtype.wgsl): what makes their
// results equal the CPU twins' bit for bit on any WebGPU device, not only on SwiftShader.
//
// WGSL promises correctly rounded f32 add, subtract and multiply, but not the rest:
// - a multiply feeding an add may be fused into one FMA by the driver (Tint emits no SPIR-V
//   NoContraction, and a bitcast round trip is transparent to driver compilers), so each product
//   that is then added goes through `mul_rn`, integer arithmetic no compiler can fuse;
// - f32 division may be off by 2.5 ULP, so the means go through `div_rn` and the quotients by an
//   arbitrary f32 through `div_any_rn`, exact as well (`quotient_ok` / `product_ok` check first
//   that a quotient or a product stays normal);
// - subnormals may be flushed (SwiftShader flushes them) and NaN/±∞ may be optimised away.
// The last point is met by range: a kernel raises `out_of_range` on any input outside it, and the
// host recomputes that chunk with the CPU twin. Inside the range none of them can arise: inputs
// are ±0 or 2^-64 ≤ |x| < 2^64, all multiples of 2^-87, so every nonzero sum or difference of up to
// 64 of them is one too (at least 2^-87, below 2^71), every mean of them is at least 2^-93, and a
// product with λ (2^-20 ≤ |λ| ≤ 2^20, checked on the host) stays normal.

// ±0, or 2^-64 ≤ |x| < 2^64, on the f32 bit pattern (never on a value a device may have flushed).
fn in_range_bits(bits: u32) -> bool {
  let exponent = (bits >> 23u) & 0xffu;
  return (bits & 0x7fffffffu) == 0u || (exponent >= 63u && exponent <= 190u);
}

// Element i of a chunk in its stored dtype is in range. f16: any finite normal value or ±0 (an f16
// subnormal is out: some devices flush it when unpacking).
fn in_range_at(word: u32, i: u32, dtype: u32) -> bool {
  if (dtype == 1u) {
    let half = (word >> ((i & 1u) * 16u)) & 0xffffu;
    let exponent = (half >> 10u) & 0x1fu;
    return (half & 0x7fffu) == 0u || (exponent >= 1u && exponent <= 30u);
  }
  if (dtype == 2u) {
    return in_range_bits(select(word << 16u, word & 0xffff0000u, (i & 1u) == 1u));
  }
  return in_range_bits(word);
}

// Element i is neither NaN nor ±∞. Averaging does not read the base, but asks this of it: a chunk
// with a non-finite base is then flagged and recomputed by the CPU twin, which counts it for the
// report (src/gpu/programs/), as every input out of range is.
fn finite_at(word: u32, i: u32, dtype: u32) -> bool {
  if (dtype == 1u) {
    return ((word >> ((i & 1u) * 16u)) & 0x7c00u) != 0x7c00u;
  }
  if (dtype == 2u) {
    return (select(word << 16u, word, (i & 1u) == 1u) & 0x7f800000u) != 0x7f800000u;
  }
  return (word & 0x7f800000u) != 0x7f800000u;
}

// The f32 with sign `sign`, biased exponent `exponent` and 24-bit significand `significand`,
// rounded to nearest even by the bits cut off below it: `rest` (against `half`, the weight of the
// first bit cut) and `sticky` (anything nonzero below `rest`). A carry out of the significand
// moves into the exponent by the addition itself.
fn round_pack(sign: u32, exponent: u32, significand: u32, rest: u32, half: u32, sticky: bool) -> f32 {
  let up = rest > half || (rest == half && (sticky || (significand & 1u) == 1u));
  return bitcast<f32>(sign | ((exponent << 23u) + (significand - 0x800000u) + u32(up)));
}

// a·b rounded to nearest even, for operands and result in the normal range (or a zero operand).
// The 48-bit product of the significands is built from 12-bit halves (no 64-bit integers in WGSL).
fn mul_rn(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  let sign = (ua ^ ub) & 0x80000000u;
  if ((ua & 0x7fffffffu) == 0u || (ub & 0x7fffffffu) == 0u) {
    return bitcast<f32>(sign);
  }
  let ma = (ua & 0x7fffffu) | 0x800000u;
  let mb = (ub & 0x7fffffu) | 0x800000u;
  let a1 = ma >> 12u;
  let a0 = ma & 0xfffu;
  let b1 = mb >> 12u;
  let b0 = mb & 0xfffu;
  let cross = a1 * b0 + a0 * b1;
  let low = a0 * b0 + ((cross & 0xfffu) << 12u);
  var high = a1 * b1 + (cross >> 12u) + (low >> 24u); // product >> 24, in [2^22, 2^24)
  var rest = low & 0xffffffu;
  var exponent = ((ua >> 23u) & 0xffu) + ((ub >> 23u) & 0xffu) - 127u;
  if (high < 0x800000u) {
    high = (high << 1u) | (rest >> 23u);
    rest = (rest << 1u) & 0xffffffu;
  } else {
    exponent += 1u;
  }
  return round_pack(sign, exponent, high, rest, 0x800000u, false);
}

// a / n rounded to nearest even, for a whole number n in [1, 128] and a normal or zero a: the
// significand shifted up 8 bits, divided as an integer, leaves at least 25 quotient bits (24 kept
// and one to round by) and the remainder says whether anything lies below them.
fn div_rn(a: f32, n: u32) -> f32 {
  let ua = bitcast<u32>(a);
  if ((ua & 0x7fffffffu) == 0u) {
    return a;
  }
  let dividend = ((ua & 0x7fffffu) | 0x800000u) << 8u;
  let quotient = dividend / n;
  let shift = firstLeadingBit(quotient) - 23u;
  let exponent = ((ua >> 23u) & 0xffu) + shift - 8u;
  return round_pack(
    ua & 0x80000000u,
    exponent,
    quotient >> shift,
    quotient & ((1u << shift) - 1u),
    1u << (shift - 1u),
    dividend % n != 0u,
  );
}

fn biased_exponent(x: f32) -> u32 {
  return (bitcast<u32>(x) >> 23u) & 0xffu;
}

fn is_zero(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) == 0u;
}

// +0 for either zero, on the bits: the twins' sums start at +0 and are never −0, while a compiler
// may fold 0.0 + x into x (and so keep a −0 the first task gave).
fn plus_zero(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  return bitcast<f32>(select(bits, 0u, (bits & 0x7fffffffu) == 0u));
}

// a / b rounded to nearest even, for normal (or zero) a and normal b whose quotient is normal
// (the caller checks the exponents): the 24-bit significands divided bit by bit, 25 quotient bits
// (24 kept and one to round by), the remainder says whether anything lies below them.
fn div_any_rn(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  let sign = (ua ^ ub) & 0x80000000u;
  if ((ua & 0x7fffffffu) == 0u) {
    return bitcast<f32>(sign);
  }
  var rem = (ua & 0x7fffffu) | 0x800000u;
  let mb = (ub & 0x7fffffu) | 0x800000u;
  var exponent = ((ua >> 23u) & 0xffu) + 127u - ((ub >> 23u) & 0xffu);
  if (rem < mb) {
    rem = rem << 1u;
    exponent -= 1u;
  }
  var q = 0u;
  for (var k = 0u; k < 25u; k++) {
    let bit = rem >= mb;
    if (bit) {
      rem -= mb;
    }
    q = (q << 1u) | u32(bit);
    rem = rem << 1u;
  }
  return round_pack(sign, exponent, q >> 1u, q & 1u, 1u, rem != 0u);
}

// The quotient a/b (b ≠ 0) or product a·b of normal-or-zero operands lands in the normal range
// with a margin: its biased exponent is within [2, 253] (or an operand is 0).
fn quotient_ok(a: f32, b: f32) -> bool {
  let e = i32(biased_exponent(a)) - i32(biased_exponent(b)) + 127;
  return is_zero(a) || (e >= 2 && e <= 253);
}

fn product_ok(a: f32, b: f32) -> bool {
  let e = i32(biased_exponent(a)) + i32(biased_exponent(b)) - 127;
  return is_zero(a) || is_zero(b) || (e >= 2 && e <= 253);
}

// A per-row factor the kernels take (its product with an input in range stays normal): ±0 or
// 2^-20 ≤ |f| < 2^21, on the bit pattern.
fn factor_in_range(f: f32) -> bool {
  let bits = bitcast<u32>(f);
  let exponent = (bits >> 23u) & 0xffu;
  return (bits & 0x7fffffffu) == 0u || (exponent >= 107u && exponent <= 147u);
}

// A divisor `div_any_rn` takes: a normal f32, on the bit pattern.
fn normal_bits(bits: u32) -> bool {
  let exponent = (bits >> 23u) & 0xffu;
  return exponent >= 1u && exponent <= 254u;
}
