// The elect kernel's totals with subgroups (appended to emr_elect.wgsl by
// src/gpu/programs/elect.ts, whose module then starts with `enable subgroups;`): a subgroup adds
// its conflicts (integers: exact in any order) and ORs its flag in registers, and one invocation
// of it does the global atomic — one a subgroup instead of one an invocation, on a counter every
// workgroup hits. The same totals as emr_elect_totals.wgsl, bit for bit.

fn add_totals(conflicts: u32, in_range: bool) {
  let sum = subgroupAdd(conflicts);
  let out_of_range = subgroupAny(!in_range);
  if (subgroupElect()) {
    if (sum > 0u) {
      atomicAdd(&totals.conflicts, sum);
    }
    if (out_of_range) {
      atomicStore(&totals.out_of_range, 1u);
    }
  }
}
