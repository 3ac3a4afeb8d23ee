// mergekit's generalized task arithmetic, element-wise end (GTATask.execute after sparsifying):
// GPU twin of `gtaMix` (src/merge/mergekit/gta-mix.ts). Per element, with δ_t = w_t·sparsified τ_t
// (computed on the host) and tasks in task order, in f32:
//   CONSENSUS 1: s = Σ_t δ_t; task t agrees where s ≥ 0 ? δ_t > 0 : δ_t < 0;
//                m = Σ agreeing δ_t, d = Σ agreeing w_t (1 where none agrees)
//   CONSENSUS 0: m = Σ_t δ_t, d = params.total (the host's Σ_t w_t, 1 when |Σ| < 1e-8)
//   NORMALIZE 1: m = m / d (`div_any_rn`); λ ≠ 1: m = λ·m (`mul_rn`); out = θ₀ + m.
// Exactness (exact.wgsl): δ_t and θ₀ in range (±0 or 2^-64 ≤ |x| < 2^64, multiples of 2^-87), the
// weights 2^-20 ≤ |w| ≤ 2^20 or 0 and λ likewise (checked on the host), so every sum is exact-
// rounded and normal or 0; the quotient and the product (exact.wgsl's `div_any_rn`, `mul_rn`) are
// checked to land in the normal range and m to be 0 or 2^-64 ≤ |m| < 2^64 before θ₀ + m — else
// `out_of_range` and the host recomputes the tile with the CPU twin.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        θ₀, f32 words
//   2  tasks: array<u32>         storage, read        N δ chunks, f32, task t at t·task_stride
//   3  weights: array<f32>       storage, read        [N] w_t
//   4  out: array<f32>           storage, read_write  [numel]
//   5  out_of_range: atomic<u32> storage, read_write

override WORKGROUP_SIZE: u32 = 256;
override CONSENSUS: u32 = 0;
override NORMALIZE: u32 = 0;
override SCALE: u32 = 0; // λ ≠ 1

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32,
  groups_x: u32,
  lambda: f32,
  total: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tasks: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
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
  let s = summed.sum;
  var in_range = summed.in_range;
  var m = 0.0;
  var d = params.total;
  if (CONSENSUS == 1u) {
    d = 0.0;
    for (var t = 0u; t < params.num_tasks; t++) {
      let v = bitcast<f32>(tasks[t * params.task_stride + i]);
      let agree = select((v < 0.0), (v > 0.0), (s >= 0.0));
      if (agree) {
        m += v;
        d += weights[t];
      }
    }
    if (d == 0.0) {
      d = 1.0;
    }
  } else {
    for (var t = 0u; t < params.num_tasks; t++) {
      m += bitcast<f32>(tasks[t * params.task_stride + i]);
    }
  }
  if (NORMALIZE == 1u) {
    in_range = in_range && quotient_ok(m, d);
    m = div_any_rn(m, d);
  }
  if (SCALE == 1u) {
    in_range = in_range && product_ok(m, params.lambda);
    m = mul_rn(m, params.lambda);
  }
  in_range = in_range && in_range_bits(bitcast<u32>(m));
  if (!in_range) {
    atomicStore(&out_of_range, 1u);
  }
  out[i] = bitcast<f32>(base_word) + m;
}
