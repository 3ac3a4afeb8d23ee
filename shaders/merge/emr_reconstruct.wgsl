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
// element 2k in the low half) — the mask word read once, the range checks and the exact product
// four lanes at a time (mul_rn4: exact.wgsl's mul_rn on a vec4); 2-D dispatch (groups_x
// workgroups per row). The host sizes every binding to whole mask words; elements past numel are computed from
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

// Four τ_uni values are ±0 or 2^-100 ≤ |τ| < 2^100 (the product with λ then stays normal).
fn tau_in_range(tau: vec4f) -> vec4<bool> {
  let x = bitcast<vec4u>(tau) << vec4u(1u); // the magnitude's bits, sign shifted out
  return (x == vec4u(0u)) | ((x - vec4u(27u << 24u)) < vec4u(200u << 24u));
}

// Quad q (elements 4q … 4q + 3 of a mask word) of the base from the vec4 holding it: values, and
// whether each is in range (exact.wgsl's in_range_at, four at a time).
struct Quad {
  value: vec4f,
  in_range: vec4<bool>,
}

fn base_quad(v: vec4u, q: u32) -> Quad {
  if (BASE_DTYPE == 0u) {
    let x = v << vec4u(1u);
    return Quad(bitcast<vec4f>(v), (x == vec4u(0u)) | ((x - vec4u(63u << 24u)) < vec4u(128u << 24u)));
  }
  let h = (q & 1u) * 2u;
  let lo = v[h];
  let hi = v[h + 1u];
  if (BASE_DTYPE == 1u) {
    let halves = vec4u(lo & 0xffffu, lo >> 16u, hi & 0xffffu, hi >> 16u);
    let exponent = (halves >> vec4u(10u)) & vec4u(0x1fu);
    let ok = ((halves & vec4u(0x7fffu)) == vec4u(0u)) | ((exponent - vec4u(1u)) < vec4u(30u));
    return Quad(vec4f(unpack2x16float(lo), unpack2x16float(hi)), ok);
  }
  let w = vec4u(lo << 16u, lo & 0xffff0000u, hi << 16u, hi & 0xffff0000u);
  let x = w << vec4u(1u);
  return Quad(bitcast<vec4f>(w), (x == vec4u(0u)) | ((x - vec4u(63u << 24u)) < vec4u(128u << 24u)));
}

// exact.wgsl's mul_rn(a, b) for four b at once: the same integer steps, lane by lane.
fn mul_rn4(a: f32, b: vec4f) -> vec4f {
  let ua = bitcast<u32>(a);
  let ub = bitcast<vec4u>(b);
  let sign = (vec4u(ua) ^ ub) & vec4u(0x80000000u);
  let zero = vec4<bool>((ua & 0x7fffffffu) == 0u) | ((ub & vec4u(0x7fffffffu)) == vec4u(0u));
  let ma = (ua & 0x7fffffu) | 0x800000u;
  let mb = (ub & vec4u(0x7fffffu)) | vec4u(0x800000u);
  let a1 = ma >> 12u;
  let a0 = ma & 0xfffu;
  let b1 = mb >> vec4u(12u);
  let b0 = mb & vec4u(0xfffu);
  let cross = a1 * b0 + a0 * b1;
  let low = a0 * b0 + ((cross & vec4u(0xfffu)) << vec4u(12u));
  var high = a1 * b1 + (cross >> vec4u(12u)) + (low >> vec4u(24u)); // product >> 24, in [2^22, 2^24)
  var rest = low & vec4u(0xffffffu);
  var exponent = vec4u(((ua >> 23u) & 0xffu) - 127u) + ((ub >> vec4u(23u)) & vec4u(0xffu));
  let small = high < vec4u(0x800000u);
  high = select(high, (high << vec4u(1u)) | (rest >> vec4u(23u)), small);
  rest = select(rest, (rest << vec4u(1u)) & vec4u(0xffffffu), small);
  exponent = select(exponent + vec4u(1u), exponent, small);
  // round_pack: to nearest even by `rest` against the half 0x800000, nothing below it
  let up = (rest > vec4u(0x800000u)) | ((rest == vec4u(0x800000u)) & ((high & vec4u(1u)) == vec4u(1u)));
  let packed = sign | ((exponent << vec4u(23u)) + (high - vec4u(0x800000u)) + select(vec4u(0u), vec4u(1u), up));
  return select(bitcast<vec4f>(packed), bitcast<vec4f>(sign), zero);
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
  var ok = vec4<bool>(true);
  var low = vec2u(0u); // a 16-bit output's even quad, stored with the odd one
  for (var q = 0u; q < 8u; q++) {
    let tau = tau_uni[w * 8u + q];
    let b = base_quad(base[select(w * 4u + q / 2u, w * 8u + q, BASE_DTYPE == 0u)], q);
    let valid = (vec4u(q * 4u) + vec4u(0u, 1u, 2u, 3u)) < vec4u(live); // past numel: never flagged
    ok &= (b.in_range & tau_in_range(tau)) | !valid;
    let masked = (vec4u(bits >> (q * 4u)) & vec4u(1u, 2u, 4u, 8u)) != vec4u(0u);
    let x = select(b.value, b.value + mul_rn4(params.lambda, tau), masked);
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
  if (!all(ok)) {
    atomicStore(&out_of_range, 1u);
  }
}
