// Σ_t θ_t of element i over the N f32 task chunks, in task order from +0 as the CPU twins add, and
// whether every task word is in exact.wgsl's range (`in_range` in: the caller's own checks so far).
// Prepended after exact.wgsl to the kernels that declare `params.num_tasks`, `params.task_stride`
// and the `tasks` binding (gta_mix, stock_blend); a WGSL module may use a declaration made later.
struct TaskSum {
  sum: f32,
  in_range: bool,
}

fn task_sum(i: u32, in_range: bool) -> TaskSum {
  var ok = in_range;
  var s = 0.0;
  for (var t = 0u; t < params.num_tasks; t++) {
    let w = tasks[t * params.task_stride + i];
    ok = ok && in_range_bits(w);
    s += bitcast<f32>(w);
  }
  return TaskSum(s, ok);
}
