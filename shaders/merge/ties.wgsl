// TIES-Merging over one chunk, given each task's magnitude threshold:
//   trimmed_t = τ_t where |τ_t| ≥ threshold_t, else 0; s = sign(Σ_t trimmed_t) (task order, f32);
//   out = θ₀ + λ·(mean of the trimmed entries whose sign is s).
// Where Σ trimmed is exactly 0 but some entry was kept, the model-wide majority sign decides later
// (it needs every chunk): `out` then holds the value for a non-positive majority (the negative
// entries, as the reference's torch.where(s > 0, x > 0, x < 0) takes them), `alt` the value for a
// positive one, and the element's bit is set in `pending`. The means and the products are
// exact.wgsl's `div_rn` and `mul_rn`, rounded as the CPU twin rounds them on any device. An input
// out of range raises `totals.out_of_range` and the host recomputes the chunk on the CPU; λ comes
// with 2^-20 ≤ |λ| ≤ 2^20 (or 0) and the thresholds finite, 0 or normal.
//
// Work division: one invocation per 32 elements (one `pending` word, no atomics for it), 2-D
// dispatch; the elected signs are summed per workgroup with an atomic, then once into
// `totals.sign_sum`.
//
// Bindings (group 0):
//   0  params: Params                  uniform
//   1  base: array<u32>                storage, read        the base chunk in its stored dtype
//   2  tasks: array<u32>               storage, read        N task chunks, task t at t·task_stride words
//   3  thresholds: array<f32>          storage, read        [N]
//   4  out: array<f32>                 storage, read_write  [numel]
//   5  alt: array<f32>                 storage, read_write  [numel], meaningful where pending
//   6  pending: array<u32>             storage, read_write  [⌈numel/32⌉] bits
//   7  totals: Totals                  storage, read_write  Σ elected signs, out-of-range flag

override WORKGROUP_SIZE: u32 = 64;
override BASE_DTYPE: u32 = 0;
override TASK_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32,
  groups_x: u32,
  lambda: f32,
}

struct Totals {
  sign_sum: atomic<i32>,
  out_of_range: atomic<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tasks: array<u32>;
@group(0) @binding(3) var<storage, read> thresholds: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> alt: array<f32>;
@group(0) @binding(6) var<storage, read_write> pending: array<u32>;
@group(0) @binding(7) var<storage, read_write> totals: Totals;

var<workgroup> group_sign_sum: atomic<i32>;


fn mean(sum: f32, count: u32) -> f32 {
  if (count == 0u) {
    return 0.0;
  }
  return div_rn(sum, count);
}

fn merged(b: f32, value: f32) -> f32 {
  return b + mul_rn(params.lambda, value);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let word = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  let first = word * 32u;
  var signs = 0i;
  var pending_bits = 0u;
  var in_range = true;
  if (first < params.numel) {
    let last = min(first + 32u, params.numel);
    for (var i = first; i < last; i++) {
      let base_word = base[word_index(i, BASE_DTYPE)];
      in_range = in_range && in_range_at(base_word, i, BASE_DTYPE);
      let b = decode(base_word, i, BASE_DTYPE);
      var sum = 0.0;
      var pos_sum = 0.0;
      var neg_sum = 0.0;
      var pos_count = 0u;
      var neg_count = 0u;
      for (var t = 0u; t < params.num_tasks; t++) {
        let w = tasks[t * params.task_stride + word_index(i, TASK_DTYPE)];
        in_range = in_range && in_range_at(w, i, TASK_DTYPE);
        let d = decode(w, i, TASK_DTYPE) - b;
        if (!(abs(d) >= thresholds[t])) {
          continue; // trimmed
        }
        sum += d;
        if (d > 0.0) {
          pos_sum += d;
          pos_count += 1u;
        } else if (d < 0.0) {
          neg_sum += d;
          neg_count += 1u;
        }
      }
      let mean_pos = mean(pos_sum, pos_count);
      let mean_neg = mean(neg_sum, neg_count);
      if (sum > 0.0) {
        signs += 1i;
        out[i] = merged(b, mean_pos);
      } else if (sum < 0.0) {
        signs -= 1i;
        out[i] = merged(b, mean_neg);
      } else {
        out[i] = merged(b, mean_neg);
        if (pos_count + neg_count > 0u) {
          alt[i] = merged(b, mean_pos);
          pending_bits |= 1u << (i - first);
        }
      }
    }
    pending[word] = pending_bits;
  }
  if (!in_range) {
    atomicStore(&totals.out_of_range, 1u);
  }
  atomicAdd(&group_sign_sum, signs);
  workgroupBarrier();
  if (lid == 0u) {
    atomicAdd(&totals.sign_sum, atomicLoad(&group_sign_sum));
  }
}
