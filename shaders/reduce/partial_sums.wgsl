// Partial sums of an f32 array: one f32 per workgroup.
//
// Work division: workgroup w (linearised over a 2-D dispatch so that more than
// 65 535 workgroups fit) owns the tile [w·TILE, (w+1)·TILE), TILE =
// WORKGROUP_SIZE · ITEMS_PER_THREAD. Each invocation adds ITEMS_PER_THREAD
// elements strided by WORKGROUP_SIZE (coalesced reads), then the workgroup
// halves a shared array until one value is left (a tree: there are no float
// atomics). Elements past `count` add nothing. The host adds the partials in f64.
//
// Bindings (group 0):
//   0  params: Params            uniform  element count and dispatch width
//   1  input: array<f32>         storage, read
//   2  partials: array<f32>      storage, read_write, one per workgroup

override WORKGROUP_SIZE: u32 = 256;
override ITEMS_PER_THREAD: u32 = 8;
override ABSOLUTE: bool = false; // sum |x| instead of x

struct Params {
  count: u32,
  groups_x: u32, // workgroups per row of the 2-D dispatch
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * params.groups_x + wid.x;
  let tile_start = group * WORKGROUP_SIZE * ITEMS_PER_THREAD;
  var acc = 0.0;
  for (var k = 0u; k < ITEMS_PER_THREAD; k++) {
    let i = tile_start + k * WORKGROUP_SIZE + lid;
    if (i < params.count) {
      let x = input[i];
      acc += select(x, abs(x), ABSOLUTE);
    }
  }
  scratch[lid] = acc;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      scratch[lid] += scratch[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[group] = scratch[0];
  }
}
