// EMR's fused pass over one chunk: elect the sign, the magnitude and the masks, and the partial
// sums of the rescalers, for N tasks at once.
//
//   τ_t = θ_t − θ₀; s = +1 where Σ_t τ_t (task order, f32) > 0, else −1; v_t = s·τ_t;
//   ε = max(0, max_t v_t); M_t = (v_t > 0); τ_uni = s·ε.
// The CPU twin elects +1 where the f32 mean Σ/N is > 0; the two differ only for a subnormal Σ,
// which cannot occur in range (exact.wgsl): a chunk with an input out of range raises
// `totals.out_of_range` and the host recomputes it on the CPU.
//
// Work division: a workgroup owns 32·WORKGROUP_SIZE elements (WORKGROUP_SIZE mask words per
// task); invocation l takes its elements l, l + WORKGROUP_SIZE, l + 2·WORKGROUP_SIZE, … (32 of
// them), so neighbouring invocations read neighbouring elements (coalesced on a GPU). Each keeps
// its 32 mask bits per task in one u32 (bit k for its k-th element); a transpose through workgroup
// memory turns them into mask words, written whole, without atomics. Per-task Σ|τ_t| and Σ M_t·ε
// go through a workgroup tree reduction, one task at a time, into partials[group][task][2]; the
// host adds them in f64.
// Dispatch is 2-D (groups_x per row) so more than 65 535 workgroups fit.
//
// Inputs are read in their stored dtype from u32 words (no widening on the host): DTYPE 0 = f32,
// 1 = f16 (unpack2x16float), 2 = bf16 (the high 16 bits of an f32).
//
// Bindings (group 0):
//   0  params: Params                 uniform
//   1  base: array<u32>               storage, read        the base chunk
//   2  tasks: array<u32>              storage, read        N task chunks, task t at t·task_stride words
//   3  tau_uni: array<f32>            storage, read_write  [numel]
//   4  masks: array<u32>              storage, read_write  [N × ⌈numel/32⌉], task-major
//   5  partials: array<f32>           storage, read_write  [groups × N × 2]
//   6  totals: Totals                 storage, read_write  conflicts (elements where some v_t > 0
//                                                          and some < 0) and the out-of-range flag

override WORKGROUP_SIZE: u32 = 64;
// MAX_TASKS, the size of the per-task private arrays, is a `const` the host prepends (private
// arrays need a constant size, which an override cannot give): src/gpu/programs/chunk.ts MAX_GPU_TASKS.
override BASE_DTYPE: u32 = 0;
override TASK_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32, // words per task chunk in `tasks`
  groups_x: u32,
}

struct Totals {
  conflicts: atomic<u32>,
  out_of_range: atomic<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tasks: array<u32>;
@group(0) @binding(3) var<storage, read_write> tau_uni: array<f32>;
@group(0) @binding(4) var<storage, read_write> masks: array<u32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(6) var<storage, read_write> totals: Totals;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;
var<workgroup> bit_scratch: array<u32, WORKGROUP_SIZE>;

fn task_word(t: u32, i: u32) -> u32 {
  return tasks[t * params.task_stride + word_index(i, TASK_DTYPE)];
}

fn tau_at(t: u32, i: u32, b: f32) -> f32 {
  return decode(task_word(t, i), i, TASK_DTYPE) - b;
}

fn reduce_sum(lid: u32, x: f32) -> f32 {
  scratch[lid] = x;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      scratch[lid] += scratch[lid + half];
    }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier(); // scratch is reused by the next task's reduction
  return total;
}

/// Mask word `lid` of the workgroup from every invocation's per-element bits (`own`: bit k is
/// element l + k·WORKGROUP_SIZE of invocation l): word w holds elements 32w … 32w + 31.
fn transpose_bits(lid: u32, own: u32) -> u32 {
  bit_scratch[lid] = own;
  workgroupBarrier();
  var word = 0u;
  for (var j = 0u; j < 32u; j++) {
    let e = lid * 32u + j;
    word |= ((bit_scratch[e % WORKGROUP_SIZE] >> (e / WORKGROUP_SIZE)) & 1u) << j;
  }
  workgroupBarrier(); // bit_scratch is reused by the next task
  return word;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * params.groups_x + wid.x;
  let first = group * WORKGROUP_SIZE * 32u;
  let word = group * WORKGROUP_SIZE + lid;
  let words = (params.numel + 31u) / 32u;
  let n_tasks = params.num_tasks;
  var abs_sum: array<f32, MAX_TASKS>;
  var masked_sum: array<f32, MAX_TASKS>;
  var bits: array<u32, MAX_TASKS>;
  var conflict_count = 0u;
  var in_range = true;
  for (var k = 0u; k < 32u; k++) {
    let i = first + k * WORKGROUP_SIZE + lid;
    if (i >= params.numel) {
      break;
    }
    let base_word = base[word_index(i, BASE_DTYPE)];
    in_range = in_range && in_range_at(base_word, i, BASE_DTYPE);
    let b = decode(base_word, i, BASE_DTYPE);
    var sum = 0.0;
    for (var t = 0u; t < n_tasks; t++) {
      let w = task_word(t, i);
      in_range = in_range && in_range_at(w, i, TASK_DTYPE);
      sum += decode(w, i, TASK_DTYPE) - b;
    }
    let s = select(-1.0, 1.0, sum > 0.0);
    var eps = 0.0;
    var any_neg = false;
    let bit = 1u << k;
    for (var t = 0u; t < n_tasks; t++) {
      let tau = tau_at(t, i, b);
      abs_sum[t] += abs(tau);
      let v = s * tau;
      if (v > 0.0) {
        bits[t] |= bit;
        eps = max(eps, v);
      }
      any_neg = any_neg || v < 0.0;
    }
    tau_uni[i] = s * eps;
    if (eps > 0.0 && any_neg) {
      conflict_count += 1u;
    }
    for (var t = 0u; t < n_tasks; t++) {
      if ((bits[t] & bit) != 0u) {
        masked_sum[t] += eps;
      }
    }
  }
  if (conflict_count > 0u) {
    atomicAdd(&totals.conflicts, conflict_count);
  }
  if (!in_range) {
    atomicStore(&totals.out_of_range, 1u);
  }
  for (var t = 0u; t < n_tasks; t++) {
    let mask_word = transpose_bits(lid, bits[t]);
    if (word < words) {
      masks[t * words + word] = mask_word;
    }
    let a = reduce_sum(lid, abs_sum[t]);
    let m = reduce_sum(lid, masked_sum[t]);
    if (lid == 0u) {
      partials[(group * n_tasks + t) * 2u] = a;
      partials[(group * n_tasks + t) * 2u + 1u] = m;
    }
  }
}
