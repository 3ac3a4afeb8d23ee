// Task t's weights for one chunk, in the task's dtype: θ₀ + λ·(M_t ⊙ τ_uni) in f32, then narrowed
// to f16 or bf16 with round-to-nearest-even written in integer arithmetic (WGSL's pack2x16float
// does not promise a rounding mode), bit for bit what the CPU twin's narrowing gives.
// The product is exact.wgsl's `mul_rn`, which no compiler can fuse with the add, so it rounds as
// the CPU twin's does. The host sends λ only with 2^-20 ≤ |λ| ≤ 2^20 (or 0); a base value out of
// range, or a τ_uni outside ±0 and 2^-100 ≤ |τ_uni| < 2^100 (the product then stays normal), raises
// `out_of_range` and the host recomputes the chunk on the CPU.
//
// Work division: one invocation per output word — one f32 element, or two 16-bit elements (element
// 2k in the low half) — 2-D dispatch (groups_x workgroups per row).
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        the base chunk in its stored dtype
//   2  tau_uni: array<f32>       storage, read
//   3  mask: array<u32>          storage, read        the task's mask words for this chunk
//   4  out: array<u32>           storage, read_write  the weights in OUT_DTYPE
//   5  out_of_range: atomic<u32> storage, read_write  set to 1 by any input out of range

override WORKGROUP_SIZE: u32 = 256;
override BASE_DTYPE: u32 = 0;
override OUT_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  groups_x: u32,
  lambda: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tau_uni: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_of_range: atomic<u32>;

fn tau_in_range(tau: f32) -> bool {
  let bits = bitcast<u32>(tau);
  let exponent = (bits >> 23u) & 0xffu;
  return (bits & 0x7fffffffu) == 0u || (exponent >= 27u && exponent <= 226u);
}

fn weight(i: u32) -> f32 {
  let base_word = base[word_index(i, BASE_DTYPE)];
  let b = decode(base_word, i, BASE_DTYPE);
  let tau = tau_uni[i];
  if (!in_range_at(base_word, i, BASE_DTYPE) || !tau_in_range(tau)) {
    atomicStore(&out_of_range, 1u);
  }
  if (((mask[i >> 5u] >> (i & 31u)) & 1u) == 0u) {
    return b;
  }
  return b + mul_rn(params.lambda, tau);
}

fn to_bf16(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu) != 0u) {
    return ((bits >> 16u) | 0x40u) & 0xffffu; // NaN stays a quiet NaN
  }
  return ((bits + 0x7fffu + ((bits >> 16u) & 1u)) >> 16u) & 0xffffu;
}

fn to_f16(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let exp = i32((bits >> 23u) & 0xffu);
  let mant = bits & 0x7fffffu;
  if (exp == 0xff) {
    return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u);
  }
  let e = exp - 127 + 15;
  if (e >= 0x1f) {
    return sign | 0x7c00u; // overflow to ±Inf
  }
  if (e <= 0) {
    // subnormal f16 (or zero): shift the whole significand into place, then round
    if (e < -10) {
      return sign;
    }
    let m = mant | 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = m & ((1u << shift) - 1u);
    var r = m >> shift;
    if (rest > half || (rest == half && (r & 1u) == 1u)) {
      r += 1u;
    }
    return sign | r;
  }
  var r = (u32(e) << 10u) | (mant >> 13u);
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (r & 1u) == 1u)) {
    r += 1u; // may carry into the exponent: that is the correct rounding
  }
  return sign | r;
}

fn narrow(x: f32) -> u32 {
  return select(to_bf16(x), to_f16(x), OUT_DTYPE == 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (OUT_DTYPE == 0u) {
    if (w < params.numel) {
      out[w] = bitcast<u32>(weight(w));
    }
    return;
  }
  let i = w * 2u;
  if (i >= params.numel) {
    return;
  }
  var word = narrow(weight(i));
  if (i + 1u < params.numel) {
    word |= narrow(weight(i + 1u)) << 16u;
  }
  out[w] = word;
}
