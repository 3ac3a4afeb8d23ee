// mergekit `linear`, element-wise: GPU twin of `linearMix` (src/merge/mergekit/linear-mix.ts).
// Per element, tasks in task order, in f32: s = Σ_t w_t·θ_t from +0 (each product exact.wgsl's
// `mul_rn`, so no device fuses it into the addition), then with NORMALIZE s / total
// (`div_any_rn`, total = the host's Σ_t w_t).
// Exactness (exact.wgsl): θ_t in range (±0 or 2^-64 ≤ |x| < 2^64), the weights 2^-20 ≤ |w| ≤ 2^20
// or 0 (checked on the host), so every product is normal or 0, a multiple of 2^-107, and every
// partial sum one too: exact-rounded and never subnormal. A sum of zeros is written +0 whatever
// the device made of 0 + (−0) (the twin's sum starts at +0 and is never −0). The quotient is
// checked to land in the normal range (`quotient_ok`); an input out of range or a quotient that
// would leave it raises `out_of_range` and the host recomputes the tile with the CPU twin.
//
// Work division: one invocation per element, 2-D dispatch (groups_x workgroups per row).
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  tasks: array<u32>         storage, read        N θ chunks, f32 words, task t at t·task_stride
//   2  weights: array<f32>       storage, read        [N] w_t
//   3  out: array<f32>           storage, read_write  [numel]
//   4  out_of_range: atomic<u32> storage, read_write

override WORKGROUP_SIZE: u32 = 256;
override NORMALIZE: u32 = 0;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32,
  groups_x: u32,
  total: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tasks: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_of_range: atomic<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  var in_range = true;
  var s = 0.0;
  for (var t = 0u; t < params.num_tasks; t++) {
    let x = tasks[t * params.task_stride + i];
    in_range = in_range && in_range_bits(x);
    s += mul_rn(weights[t], bitcast<f32>(x));
  }
  s = plus_zero(s);
  if (NORMALIZE == 1u) {
    in_range = in_range && quotient_ok(s, params.total);
    s = div_any_rn(s, params.total);
  }
  if (!in_range) {
    atomicStore(&out_of_range, 1u);
  }
  out[i] = s;
}
