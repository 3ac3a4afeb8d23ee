// EMR's fused pass over one chunk: elect the sign, the magnitude and the masks, and the partial
// sums of the rescalers, for N tasks at once.
//
//   τ_t = θ_t − θ₀; s = +1 where Σ_t τ_t (task order, f32) > 0, else −1; v_t = s·τ_t;
//   ε = max(0, max_t v_t); M_t = (v_t > 0); τ_uni = s·ε.
// The CPU twin elects +1 where the f32 mean Σ/N is > 0; the two differ only for a subnormal Σ,
// which cannot occur in range (exact.wgsl): a chunk with an input out of range raises
// `totals.out_of_range` and the host recomputes it on the CPU.
//
// Work division: invocation l owns one mask word — 32 consecutive elements — read as 8 vec4 loads
// ("quads", four elements each), so its mask bits are one u32 per task: no transpose, no atomics
// for them, and no workgroup memory or barrier (on SwiftShader the former transpose and workgroup
// tree reductions, with their barriers, took about half the kernel's time). Per quad: (A) Σ_t τ_t in task order, the sign;
// (B) the quad read again (still in cache), v = s·τ per task: the mask bits, Σ|τ_t| in element
// order, ε. Then (C) per task, Σ M_t·ε in element order from the mask word and ε (no task read).
// The tasks are read twice, as the naive kernel does. Each word's two f32 partials per task
// (32 serial adds) go to partials[word][task][2]; the host adds them in f64 in word order (the
// same whatever the tiling).
// Dispatch is 2-D (groups_x per row) so more than 65 535 workgroups fit.
//
// Inputs are read in their stored dtype from u32 words (no widening on the host): DTYPE 0 = f32,
// 1 = f16 (unpack2x16float), 2 = bf16 (the high 16 bits of an f32). The host lays each task out on
// whole mask words (task_stride: a multiple of 4 words) and sizes the base likewise, with zeros
// past numel: elements of value 0 set no bit, add nothing and are in range.
//
// Bindings (group 0):
//   0  params: Params                 uniform
//   1  base: array<vec4u>             storage, read        the base chunk
//   2  tasks: array<vec4u>            storage, read        N task chunks, task t at t·task_stride words
//   3  tau_uni: array<vec4f>          storage, read_write  [32·⌈numel/32⌉]
//   4  masks: array<u32>              storage, read_write  [N × ⌈numel/32⌉], task-major
//   5  partials: array<f32>           storage, read_write  [⌈numel/32⌉ × N × 2]
//   6  totals: Totals                 storage, read_write  conflicts (elements where some v_t > 0
//                                                          and some < 0) and the out-of-range flag
// `add_totals` (the conflicts and the flag: one atomic an invocation, or one a subgroup where the
// device has 'subgroups') is appended by the host from emr_elect_totals.wgsl or
// emr_elect_totals_subgroups.wgsl: src/gpu/programs/elect.ts.

override WORKGROUP_SIZE: u32 = 64u;
// MAX_TASKS, the size of the per-task private arrays, is a `const` the host prepends (private
// arrays need a constant size, which an override cannot give): src/gpu/programs/chunk.ts MAX_GPU_TASKS.
override BASE_DTYPE: u32 = 0;
override TASK_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  num_tasks: u32,
  task_stride: u32, // words per task chunk in `tasks` (a multiple of 4)
  groups_x: u32,
}

struct Totals {
  conflicts: atomic<u32>,
  out_of_range: atomic<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4u>;
@group(0) @binding(2) var<storage, read> tasks: array<vec4u>;
@group(0) @binding(3) var<storage, read_write> tau_uni: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> masks: array<u32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
@group(0) @binding(6) var<storage, read_write> totals: Totals;

// Quad q (elements 4q … 4q + 3 of a mask word) from the vec4 holding it: its elements as f32 bit
// patterns (f16 halves stay raw: see quad_value / quad_in_range).
fn quad_words(v: vec4u, q: u32, dtype: u32) -> vec4u {
  if (dtype == 0u) {
    return v;
  }
  let h = (q & 1u) * 2u;
  let lo = v[h];
  let hi = v[h + 1u];
  if (dtype == 1u) {
    return vec4u(lo & 0xffffu, lo >> 16u, hi & 0xffffu, hi >> 16u);
  }
  return vec4u(lo << 16u, lo & 0xffff0000u, hi << 16u, hi & 0xffff0000u);
}

fn quad_value(w: vec4u, dtype: u32) -> vec4f {
  if (dtype == 1u) {
    return vec4f(unpack2x16float(w.x | (w.y << 16u)), unpack2x16float(w.z | (w.w << 16u)));
  }
  return bitcast<vec4f>(w);
}

// Per element of a quad: in range (exact.wgsl's in_range_at, four at a time).
fn quad_in_range(w: vec4u, dtype: u32) -> vec4<bool> {
  if (dtype == 1u) {
    let exponent = (w >> vec4u(10u)) & vec4u(0x1fu);
    return ((w & vec4u(0x7fffu)) == vec4u(0u)) | ((exponent - vec4u(1u)) < vec4u(30u));
  }
  // ±0, or a biased exponent in [63, 190]: the magnitude's bits (sign shifted out) tell both
  let x = w << vec4u(1u);
  return (x == vec4u(0u)) | ((x - vec4u(63u << 24u)) < vec4u(128u << 24u));
}

// The vec4 holding quad q of word `word` of a chunk of `dtype` that starts at vec4 `at`.
fn quad_at(at: u32, word: u32, q: u32, dtype: u32) -> u32 {
  return at + select(word * 8u + q, word * 4u + q / 2u, dtype != 0u);
}

// Bits 0..3 of a quad's flags.
fn pack4(b: vec4<bool>) -> u32 {
  return dot(select(vec4u(0u), vec4u(1u, 2u, 4u, 8u), b), vec4u(1u));
}

fn unpack4(bits: u32) -> vec4<bool> {
  return (vec4u(bits) & vec4u(1u, 2u, 4u, 8u)) != vec4u(0u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let word = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  let words = (params.numel + 31u) / 32u;
  let n_tasks = params.num_tasks;
  let stride4 = params.task_stride / 4u;
  var in_range = vec4<bool>(true);
  var conflicts = 0u;
  var eps: array<vec4f, 8>;
  var abs_sum: array<f32, MAX_TASKS>;
  var bits: array<u32, MAX_TASKS>;
  if (word < words) {
    for (var t = 0u; t < n_tasks; t++) {
      bits[t] = 0u;
      abs_sum[t] = 0.0;
    }
    for (var q = 0u; q < 8u; q++) {
      let bw = quad_words(base[quad_at(0u, word, q, BASE_DTYPE)], q, BASE_DTYPE);
      in_range &= quad_in_range(bw, BASE_DTYPE);
      let b = quad_value(bw, BASE_DTYPE);
      // (A) Σ_t τ_t, in task order, and the sign
      var sum = vec4f(0.0);
      for (var t = 0u; t < n_tasks; t++) {
        let tw = quad_words(tasks[quad_at(t * stride4, word, q, TASK_DTYPE)], q, TASK_DTYPE);
        sum += quad_value(tw, TASK_DTYPE) - b;
      }
      let s = select(vec4f(-1.0), vec4f(1.0), sum > vec4f(0.0));
      // (B) v = s·τ per task (the quad just read again): mask bits, Σ|τ_t| in element order, ε
      var e = vec4f(0.0);
      var any_positive = vec4<bool>(false);
      var any_negative = vec4<bool>(false);
      for (var t = 0u; t < n_tasks; t++) {
        let tw = quad_words(tasks[quad_at(t * stride4, word, q, TASK_DTYPE)], q, TASK_DTYPE);
        in_range &= quad_in_range(tw, TASK_DTYPE);
        let tau = quad_value(tw, TASK_DTYPE) - b;
        let v = s * tau;
        let pos = v > vec4f(0.0);
        bits[t] |= pack4(pos) << (q * 4u);
        any_positive |= pos;
        any_negative |= v < vec4f(0.0);
        e = max(e, v); // a v ≤ 0 never wins but for −0 over +0: normalised below
        let m = abs(tau);
        var a = abs_sum[t];
        a += m.x;
        a += m.y;
        a += m.z;
        a += m.w;
        abs_sum[t] = a;
      }
      e = select(e, vec4f(0.0), e == vec4f(0.0)); // ε = +0 where no v > 0
      eps[q] = e;
      tau_uni[word * 8u + q] = s * e;
      conflicts += countOneBits(pack4(any_positive & any_negative));
    }
    // (C) per task, the word's Σ M_t·ε in element order, from its mask bits and ε
    for (var t = 0u; t < n_tasks; t++) {
      let word_bits = bits[t];
      masks[t * words + word] = word_bits;
      var m = 0.0;
      for (var q = 0u; q < 8u; q++) {
        let e = select(vec4f(0.0), eps[q], unpack4(word_bits >> (q * 4u)));
        m += e.x;
        m += e.y;
        m += e.z;
        m += e.w;
      }
      partials[(word * n_tasks + t) * 2u] = abs_sum[t];
      partials[(word * n_tasks + t) * 2u + 1u] = m;
    }
  }
  add_totals(conflicts, all(in_range));
}
