// The element-wise step of mergekit's slerp, nuslerp and of the lerps (their colinear fallbacks):
// out = a·v0 + b·v1 in f32, with DIVIDE then ÷ params.divide (nuslerp's sin θ) — GPU twin of
// `combine2` (src/merge/mergekit/slerp-mix.ts). The two products are exact.wgsl's `mul_rn`, so no
// device may fuse one into the addition; a, b come with 2^-20 ≤ |a|, |b| ≤ 2^20 or 0 and the
// divisor normal (checked on the host), the inputs in range (±0 or 2^-64 ≤ |x| < 2^64), so the
// products are normal or 0 and their sum is 0 or at least 2^-107 (the difference of two normal
// products is a multiple of the smaller's ulp). The quotient is `div_any_rn`, exact where it lands
// in the normal range (`quotient_ok`). An input out of range, or a quotient that would leave it,
// raises `out_of_range` and the host recomputes the tile.
// ROWS 1 (nuslerp per vector, `combineRows`): element i of the tile takes the factors of row
// (i + first) / row_len (a, b, divisor: 1 for a lerp row, which s / 1 leaves exact), checked here
// per element: a, b by `factor_in_range`, the divisor normal; else the flag.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  v0: array<u32>            storage, read        f32 words
//   2  v1: array<u32>            storage, read        f32 words
//   3  out: array<f32>           storage, read_write  [numel]
//   4  out_of_range: atomic<u32> storage, read_write
//   5  factors: array<vec4f>     storage, read        ROWS 1: (a, b, divisor, 0) per row the tile meets

override WORKGROUP_SIZE: u32 = 256;
override DIVIDE: u32 = 0;
override ROWS: u32 = 0;

struct Params {
  numel: u32,
  groups_x: u32,
  a: f32,
  b: f32,
  divide: f32,
  row_len: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> v0: array<u32>;
@group(0) @binding(2) var<storage, read> v1: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_of_range: atomic<u32>;
@group(0) @binding(5) var<storage, read> factors: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let x = v0[i];
  let y = v1[i];
  var in_range = in_range_bits(x) && in_range_bits(y);
  var f = vec3f(params.a, params.b, params.divide);
  if (ROWS == 1u) {
    f = factors[(i + params.first) / params.row_len].xyz;
    in_range = in_range && factor_in_range(f.x) && factor_in_range(f.y) && normal_bits(bitcast<u32>(f.z));
  }
  var s = mul_rn(f.x, bitcast<f32>(x)) + mul_rn(f.y, bitcast<f32>(y));
  if (DIVIDE == 1u || ROWS == 1u) {
    in_range = in_range && quotient_ok(s, f.z);
    s = div_any_rn(s, f.z);
  }
  if (!in_range) {
    atomicStore(&out_of_range, 1u);
  }
  out[i] = s;
}
