// mergekit `model_stock`'s element-wise end: GPU twin of `stockBlend`
// (src/merge/mergekit/stock-blend.ts). Per element i of row r (the row's t_r and 1 − t_r from the
// host, which computes them from the cosines), in f32: m = (Σ_t θ_t from +0, in task order) / N
// (exact.wgsl's `div_rn`), out = t_r·m + (1 − t_r)·θ₀ (each product `mul_rn`, never fused).
// Exactness (exact.wgsl): θ₀, θ_t in range (±0 or 2^-64 ≤ |x| < 2^64, multiples of 2^-87), so the
// sum is 0 or at least 2^-87 (written +0 when zero, whatever the device made of 0 + (−0): the twin's
// sum starts at +0) and m is 0 or at least 2^-94; the factors 2^-20 ≤ |f| < 2^21 or 0 (checked
// here, per row: exact.wgsl's `factor_in_range`), so both products are normal or 0 and their sum is 0 or at
// least 2^-115 (two products that nearly cancel are both at least 2^-85). An input or a factor out
// of range raises `out_of_range` and the host recomputes the tile with the CPU twin.
//
// Work division: one invocation per element, 2-D dispatch (groups_x workgroups per row). Element i
// of the tile lies in row (i + first) / row_len of the tile's factors.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        θ₀, f32 words
//   2  tasks: array<u32>         storage, read        N θ chunks, f32 words, task t at t·task_stride
//   3  factors: array<vec2f>     storage, read        (t_r, 1 − t_r) per row the tile meets
//   4  out: array<f32>           storage, read_write  [numel]
//   5  out_of_range: atomic<u32> storage, read_write

override WORKGROUP_SIZE: u32 = 256;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32,
  groups_x: u32,
  row_len: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tasks: array<u32>;
@group(0) @binding(3) var<storage, read> factors: array<vec2f>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_of_range: atomic<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let base_word = base[i];
  let summed = task_sum(i, in_range_bits(base_word));
  let m = div_rn(plus_zero(summed.sum), params.num_tasks);
  let f = factors[(i + params.first) / params.row_len];
  var in_range = summed.in_range && factor_in_range(f.x) && factor_in_range(f.y);
  if (!in_range) {
    atomicStore(&out_of_range, 1u);
  }
  out[i] = mul_rn(f.x, m) + mul_rn(f.y, bitcast<f32>(base_word));
}
