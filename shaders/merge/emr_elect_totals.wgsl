// The elect kernel's totals without subgroups (appended to emr_elect.wgsl by
// src/gpu/programs/elect.ts): each invocation with a conflict adds its count, and one out of
// range sets the flag (rare: never in a clean chunk).

fn add_totals(conflicts: u32, in_range: bool) {
  if (conflicts > 0u) {
    atomicAdd(&totals.conflicts, conflicts);
  }
  if (!in_range) {
    atomicStore(&totals.out_of_range, 1u);
  }
}
