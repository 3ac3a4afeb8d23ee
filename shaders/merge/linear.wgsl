// The linear baselines over one chunk, per element, tasks summed in task order in f32:
//   MODE 0, weight averaging:  (Σ_t θ_t) / N
//   MODE 1, Task Arithmetic:   θ₀ + λ·Σ_t (θ_t − θ₀)
// The division and the product are exact.wgsl's `div_rn` and `mul_rn`: correctly rounded and never
// fused, as in the CPU twin. An input out of range (in MODE 0 the base, which is not used, only
// when NaN/±∞, so that the CPU twin counts it) raises `out_of_range` and the host recomputes the
// chunk on the CPU; λ comes with
// 2^-20 ≤ |λ| ≤ 2^20 (or 0).
//
// Work division: one invocation per element, 2-D dispatch (groups_x workgroups per row).
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        the base chunk in its stored dtype
//   2  tasks: array<u32>         storage, read        N task chunks, task t at t·task_stride words
//   3  out: array<f32>           storage, read_write  [numel]
//   4  out_of_range: atomic<u32> storage, read_write  set to 1 by any input out of range

override WORKGROUP_SIZE: u32 = 256;
override MODE: u32 = 0;
override BASE_DTYPE: u32 = 0;
override TASK_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32,
  groups_x: u32,
  lambda: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tasks: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_of_range: atomic<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let base_word = base[word_index(i, BASE_DTYPE)];
  var in_range = select(
    in_range_at(base_word, i, BASE_DTYPE),
    finite_at(base_word, i, BASE_DTYPE),
    MODE == 0u,
  );
  let b = decode(base_word, i, BASE_DTYPE);
  var sum = 0.0;
  for (var t = 0u; t < params.num_tasks; t++) {
    let w = tasks[t * params.task_stride + word_index(i, TASK_DTYPE)];
    in_range = in_range && in_range_at(w, i, TASK_DTYPE);
    let x = decode(w, i, TASK_DTYPE);
    sum += select(x, x - b, MODE == 1u);
  }
  if (!in_range) {
    atomicStore(&out_of_range, 1u);
  }
  if (MODE == 0u) {
    out[i] = div_rn(sum, params.num_tasks);
  } else {
    out[i] = b + mul_rn(params.lambda, sum);
  }
}
