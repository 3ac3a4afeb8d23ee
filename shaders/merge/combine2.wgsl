// The element-wise step of mergekit's slerp and of the lerps (slerp's colinear fallback):
// out = a·v0 + b·v1 in f32 — GPU twin of `combine2` without a divisor
// (src/merge/mergekit/slerp-mix.ts). The two products are exact.wgsl's `mul_rn`, so no device may
// fuse one into the addition; a, b come with 2^-20 ≤ |a|, |b| ≤ 2^20 or 0 (checked on the host),
// the inputs in range (±0 or 2^-64 ≤ |x| < 2^64), so the products are normal or 0 and their sum is
// 0 or at least 2^-107 (the difference of two normal products is a multiple of the smaller's ulp).
// An input out of range raises `out_of_range` and the host recomputes the tile.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  v0: array<u32>            storage, read        f32 words
//   2  v1: array<u32>            storage, read        f32 words
//   3  out: array<f32>           storage, read_write  [numel]
//   4  out_of_range: atomic<u32> storage, read_write

override WORKGROUP_SIZE: u32 = 256;

struct Params {
  numel: u32,
  groups_x: u32,
  a: f32,
  b: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> v0: array<u32>;
@group(0) @binding(2) var<storage, read> v1: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_of_range: atomic<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let x = v0[i];
  let y = v1[i];
  if (!(in_range_bits(x) && in_range_bits(y))) {
    atomicStore(&out_of_range, 1u);
  }
  out[i] = mul_rn(params.a, bitcast<f32>(x)) + mul_rn(params.b, bitcast<f32>(y));
}
