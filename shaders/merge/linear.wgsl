// The linear baselines over one chunk, per element, tasks summed in task order in f32:
//   MODE 0, weight averaging:  (Σ_t θ_t) / N
//   MODE 1, Task Arithmetic:   θ₀ + λ·Σ_t (θ_t − θ₀)
// The division of MODE 0 is WGSL's f32 division, which the spec lets a GPU compute to 2.5 ULP; the
// CPU twin rounds it exactly (SwiftShader, which the tests run on, agrees with it bit for bit).
//
// Work division: one invocation per element, 2-D dispatch (groups_x workgroups per row).
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        the base chunk in its stored dtype
//   2  tasks: array<u32>         storage, read        N task chunks, task t at t·task_stride words
//   3  out: array<f32>           storage, read_write  [numel]

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


@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let b = decode(base[word_index(i, BASE_DTYPE)], i, BASE_DTYPE);
  var sum = 0.0;
  for (var t = 0u; t < params.num_tasks; t++) {
    let x = decode(tasks[t * params.task_stride + word_index(i, TASK_DTYPE)], i, TASK_DTYPE);
    sum += select(x, x - b, MODE == 1u);
  }
  if (MODE == 0u) {
    out[i] = sum / f32(params.num_tasks);
  } else {
    // The product rounded to f32 through its bits before the add: no fused multiply-add.
    out[i] = b + bitcast<f32>(bitcast<u32>(params.lambda * sum));
  }
}
