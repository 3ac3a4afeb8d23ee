// Radix histogram of |τ_t| = |θ_t − θ₀| per task, on the bits of the f32 magnitude (they order like
// the values for non-negative floats), for TIES's exact global top-k threshold:
//   LEVEL 0: counts[t][bits >> 16] += 1
//   LEVEL 1: counts[t][bits & 0xffff] += 1 for the magnitudes whose high 16 bits are prefix[t]
//
// Work division: one invocation per element, looping over the tasks; counts go up with u32 atomics
// (no float atomics are needed: these are counts). 2-D dispatch (groups_x workgroups per row).
// An input out of range (exact.wgsl) raises `out_of_range`: its |τ| bits could be a flushed
// subnormal's or a NaN's, so the host counts that chunk on the CPU instead.
//
// Bindings (group 0):
//   0  params: Params                 uniform
//   1  base: array<u32>               storage, read        the base chunk in its stored dtype
//   2  tasks: array<u32>              storage, read        N task chunks, task t at t·task_stride words
//   3  prefix: array<u32>             storage, read        [N] (LEVEL 1)
//   4  counts: array<atomic<u32>>     storage, read_write  [N × 65 536]
//   5  out_of_range: atomic<u32>      storage, read_write  set to 1 by any input out of range

override WORKGROUP_SIZE: u32 = 256;
override LEVEL: u32 = 0;
override BASE_DTYPE: u32 = 0;
override TASK_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tasks: array<u32>;
@group(0) @binding(3) var<storage, read> prefix: array<u32>;
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> out_of_range: atomic<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let base_word = base[word_index(i, BASE_DTYPE)];
  var in_range = in_range_at(base_word, i, BASE_DTYPE);
  let b = decode(base_word, i, BASE_DTYPE);
  for (var t = 0u; t < params.num_tasks; t++) {
    let w = tasks[t * params.task_stride + word_index(i, TASK_DTYPE)];
    in_range = in_range && in_range_at(w, i, TASK_DTYPE);
    let x = decode(w, i, TASK_DTYPE);
    let bits = bitcast<u32>(abs(x - b));
    if (LEVEL == 0u) {
      atomicAdd(&counts[t * 65536u + (bits >> 16u)], 1u);
    } else if ((bits >> 16u) == prefix[t]) {
      atomicAdd(&counts[t * 65536u + (bits & 0xffffu)], 1u);
    }
  }
  if (!in_range) {
    atomicStore(&out_of_range, 1u);
  }
}
