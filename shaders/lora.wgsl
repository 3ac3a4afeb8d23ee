// LoRA: an adapted weight's values W + s·B·A over one range of its elements, bit for bit the CPU
// twin's arithmetic (src/peft/kernel.ts), with exact.wgsl prepended by src/gpu/programs/lora.ts:
//   p_k = mul_rn(B[i][k], A[k][j]),  acc = ((p_0 + p_1) + …) + p_{r-1},  out = W[i][j] + mul_rn(s, acc)
// mul_rn is integer arithmetic, so no compiler fuses a product into the add that follows it; the
// adds are WGSL's correctly rounded f32 adds, in k order. A compiler may ignore the sign of a zero,
// so a zero sum takes IEEE's sign from its operands' bits (−0 only for −0 + −0).
// Range: the host sends A and B only when every entry is ±0 or 2^-30 ≤ |x| < 2^30, r ≤ 2^16 and
// 2^-20 ≤ s ≤ 2^20; a base value outside ±0 and 2^-64 ≤ |w| < 2^64 raises `out_of_range` and the
// host recomputes the range on the CPU. Inside it nothing is subnormal, infinite or NaN: products
// are at least 2^-60 and multiples of 2^-83, so are their nonzero sums; s·acc is then at least
// 2^-103, a multiple of 2^-126 like the base values, so a nonzero W + s·acc is normal too; and
// nothing reaches 2^128 (|acc| < r·2^60, |s·acc| < r·2^80).
//
// Work division: one invocation per element of the range, 2-D dispatch (groups_x workgroups per
// row). The range starts at (row0, col0) of the stored weight; element e is at column col0 + e of
// row row0, wrapping over `cols` columns per row. Neighbouring invocations read neighbouring
// entries of a row of A and one row of B (with fan_in_fan_out, the other way round).
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  a: array<u32>             storage, read        lora_A as f32 bits, r × a_cols
//   2  b: array<u32>             storage, read        lora_B as f32 bits, rows × r
//   3  w: array<u32>             storage, read        the base's values over the range, f32 bits
//   4  out: array<u32>           storage, read_write  W + s·B·A over the range, f32 bits
//   5  out_of_range: atomic<u32> storage, read_write  set to 1 by a base value out of range (the host
//                                                      sets 2 first: a readback with neither saw no GPU)

override WORKGROUP_SIZE: u32 = 256;
// 1: the stored weight is (in, out), element (i, j) takes (B·A)[j][i].
override FAN_IN_FAN_OUT: u32 = 0;

struct Params {
  numel: u32,
  row0: u32,
  col0: u32,
  cols: u32,
  r: u32,
  a_cols: u32,
  groups_x: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read> w: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_of_range: atomic<u32>;

// x + y rounded to nearest even, a zero result signed as IEEE 754 says whatever the compiler did.
fn add_rn(x: f32, y: f32) -> f32 {
  let sum = x + y;
  let zero = bitcast<f32>(bitcast<u32>(x) & bitcast<u32>(y) & 0x80000000u);
  return select(sum, zero, (bitcast<u32>(sum) & 0x7fffffffu) == 0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (e >= params.numel) {
    return;
  }
  let c = params.col0 + e;
  var i = params.row0 + c / params.cols;
  var j = c % params.cols;
  if (FAN_IN_FAN_OUT == 1u) {
    let t = i;
    i = j;
    j = t;
  }
  let w_bits = w[e];
  if (!in_range_bits(w_bits)) {
    atomicStore(&out_of_range, 1u);
  }
  let r = params.r;
  var acc = mul_rn(bitcast<f32>(b[i * r]), bitcast<f32>(a[j]));
  for (var k = 1u; k < r; k++) {
    acc = add_rn(acc, mul_rn(bitcast<f32>(b[i * r + k]), bitcast<f32>(a[k * params.a_cols + j])));
  }
  out[e] = bitcast<u32>(add_rn(bitcast<f32>(w_bits), mul_rn(params.scale, acc)));
}
