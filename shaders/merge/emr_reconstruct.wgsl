// Task t's weights for one chunk, in the task's dtype: θ₀ + λ·(M_t ⊙ τ_uni) in f32, then narrowed
// to f16 or bf16 with round-to-nearest-even written in integer arithmetic (WGSL's pack2x16float
// does not promise a rounding mode), bit for bit what the CPU twin's narrowing gives.
// The product is exact.wgsl's `mul_rn`, which no compiler can fuse with the add, so it rounds as
// the CPU twin's does. The host sends λ only with 2^-20 ≤ |λ| ≤ 2^20 (or 0); a base value out of
// range, or a τ_uni outside ±0 and 2^-100 ≤ |τ_uni| < 2^100 (the product then stays normal), raises
// `out_of_range` and the host recomputes the chunk on the CPU.
//
// Work division: one invocation per mask word — 32 elements, read as vec4 loads (base in its
// dtype, τ_uni) and written as vec4 stores (8 of f32, or 4 holding two 16-bit elements a word:
// element 2k in the low half) — the mask word read once; 2-D dispatch (groups_x workgroups per
// row). The host sizes every binding to whole mask words; elements past numel are computed from
// whatever the padding holds but never flagged, and the host reads back numel elements only.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<vec4u>        storage, read        the base chunk in its stored dtype
//   2  tau_uni: array<vec4f>     storage, read
//   3  mask: array<u32>          storage, read        the task's mask words for this chunk
//   4  out: array<vec4u>         storage, read_write  the weights in OUT_DTYPE
//   5  out_of_range: atomic<u32> storage, read_write  set to 1 by any input out of range

override WORKGROUP_SIZE: u32 = 64;
override BASE_DTYPE: u32 = 0;
override OUT_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  groups_x: u32,
  lambda: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4u>;
@group(0) @binding(2) var<storage, read> tau_uni: array<vec4f>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4u>;
@group(0) @binding(5) var<storage, read_write> out_of_range: atomic<u32>;

fn tau_in_range(tau: f32) -> bool {
  let bits = bitcast<u32>(tau);
  let exponent = (bits >> 23u) & 0xffu;
  return (bits & 0x7fffffffu) == 0u || (exponent >= 27u && exponent <= 226u);
}

// Element k of the word: its base value's stored bits (`word`, element k of its dtype) and τ_uni;
// `ok` turns false on an input out of range.
fn weight(word: u32, k: u32, tau: f32, bits: u32, ok: ptr<function, bool>) -> f32 {
  let b = decode(word, k, BASE_DTYPE);
  if (!in_range_at(word, k, BASE_DTYPE) || !tau_in_range(tau)) {
    *ok = false;
  }
  if (((bits >> k) & 1u) == 0u) {
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
  let words = (params.numel + 31u) / 32u;
  if (w >= words) {
    return;
  }
  let live = min(32u, params.numel - w * 32u);
  let bits = mask[w];
  let wide = BASE_DTYPE == 0u; // one base element a word
  var ok = true;
  var low = vec2u(0u); // a 16-bit output's even quad, stored with the odd one
  for (var q = 0u; q < 8u; q++) {
    let tau = tau_uni[w * 8u + q];
    let bv = base[select(w * 4u + q / 2u, w * 8u + q, wide)];
    var x: vec4f;
    for (var j = 0u; j < 4u; j++) {
      let k = q * 4u + j;
      var element_ok = true;
      x[j] = weight(bv[select((q & 1u) * 2u + j / 2u, j, wide)], k, tau[j], bits, &element_ok);
      ok = ok && (element_ok || k >= live); // past numel: computed, never flagged
    }
    if (OUT_DTYPE == 0u) {
      out[w * 8u + q] = bitcast<vec4u>(x);
    } else {
      let pair = vec2u(narrow(x.x) | (narrow(x.y) << 16u), narrow(x.z) | (narrow(x.w) << 16u));
      if ((q & 1u) == 0u) {
        low = pair;
      } else {
        out[w * 4u + q / 2u] = vec4u(low, pair);
      }
    }
  }
  if (!ok) {
    atomicStore(&out_of_range, 1u);
  }
}
