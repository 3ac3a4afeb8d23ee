// The benchmark's comparison row, not the product: a straightforward fused elect/mask kernel, one
// thread per element, f32 inputs, the N tasks packed at t·n. It writes τ_uni and sets mask bits
// with a global atomicOr per (task, word); no rescaler sums, no range checks.
// Bindings: 0 params, 1 base, 2 packed tasks, 3 τ_uni, 4 masks (N × ⌈n/32⌉ words).
override WORKGROUP_SIZE: u32 = 256u;

struct Params {
  n: u32,
  num_tasks: u32,
  gx: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<f32>;
@group(0) @binding(2) var<storage, read> tasks: array<f32>;
@group(0) @binding(3) var<storage, read_write> tau_uni: array<f32>;
@group(0) @binding(4) var<storage, read_write> masks: array<atomic<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x + id.y * params.gx * WORKGROUP_SIZE;
  if (i >= params.n) {
    return;
  }
  let b = base[i];
  var sum = 0.0;
  for (var t = 0u; t < params.num_tasks; t++) {
    sum += tasks[t * params.n + i] - b;
  }
  let s = select(-1.0, 1.0, sum / f32(params.num_tasks) > 0.0);
  let words = (params.n + 31u) / 32u;
  var eps = 0.0;
  for (var t = 0u; t < params.num_tasks; t++) {
    let v = (tasks[t * params.n + i] - b) * s;
    if (v > 0.0) {
      eps = max(eps, v);
      atomicOr(&masks[t * words + i / 32u], 1u << (i % 32u));
    }
  }
  tau_uni[i] = s * eps;
}
