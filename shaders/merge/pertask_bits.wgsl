// The per-task methods' bit passes (src/merge/pertask), one invocation per 32-element mask word:
//   MODE 0  TALL mask (generate_task_masks): bit = |θ₀ − θ_t| > |(θ₀ + τ_MTL) − θ_t|·λ, strictly;
//           `out_a` gets the mask words (`out_b` is left alone).
//   MODE 1  T-Switch binarise (process_matrix, given its thresholds): τ = θ_t − θ₀ kept where
//           τ > 0 and τ ≥ tp, or τ < 0 and −τ ≥ tn; `out_a` gets the keep bits, `out_b` the signs.
// CPU twins: tallMask and tSwitchBits in src/merge/pertask/kernels.ts. The product goes through
// exact.wgsl's `mul_rn` (the host sends λ only in its range); every input must be in range
// (exact.wgsl), τ_MTL and the thresholds too, or `out_of_range` is raised and the host recomputes
// the tile on the CPU: inside it, differences and sums are exact-rounded normals or zeros.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        the base chunk in its stored dtype
//   2  task: array<u32>          storage, read        the task's chunk in its stored dtype
//   3  tau: array<f32>           storage, read        τ_MTL (MODE 0; one unused word for MODE 1)
//   4  out_a: array<u32>         storage, read_write  mask / keep words
//   5  out_b: array<u32>         storage, read_write  sign words (MODE 1)
//   6  out_of_range: atomic<u32> storage, read_write

override WORKGROUP_SIZE: u32 = 64;
override BASE_DTYPE: u32 = 0;
override TASK_DTYPE: u32 = 0;
override MODE: u32 = 0;

struct Params {
  numel: u32,
  groups_x: u32,
  lambda: f32, // MODE 0
  tp: f32, // MODE 1
  tn: f32, // MODE 1
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> task: array<u32>;
@group(0) @binding(3) var<storage, read> tau: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_a: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_b: array<u32>;
@group(0) @binding(6) var<storage, read_write> out_of_range: atomic<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  let first = w * 32u;
  if (first >= params.numel) {
    return;
  }
  var a = 0u;
  var b = 0u;
  var ok = true;
  for (var j = 0u; j < 32u; j++) {
    let i = first + j;
    if (i >= params.numel) {
      break;
    }
    let base_word = base[word_index(i, BASE_DTYPE)];
    let task_word = task[word_index(i, TASK_DTYPE)];
    ok = ok && in_range_at(base_word, i, BASE_DTYPE) && in_range_at(task_word, i, TASK_DTYPE);
    let theta0 = decode(base_word, i, BASE_DTYPE);
    let theta = decode(task_word, i, TASK_DTYPE);
    if (MODE == 0u) {
      let t = tau[i];
      ok = ok && in_range_bits(bitcast<u32>(t));
      let pt_ft = abs(theta0 - theta);
      let multi_ft = abs((theta0 + t) - theta);
      if (pt_ft > mul_rn(multi_ft, params.lambda)) {
        a |= 1u << j;
      }
    } else {
      let x = theta - theta0;
      if ((x > 0.0 && x >= params.tp) || (x < 0.0 && -x >= params.tn)) {
        a |= 1u << j;
        if (x < 0.0) {
          b |= 1u << j;
        }
      }
    }
  }
  if (!ok) {
    atomicStore(&out_of_range, 1u);
  }
  out_a[w] = a;
  if (MODE == 1u) {
    out_b[w] = b;
  }
}
