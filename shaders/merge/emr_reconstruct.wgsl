// Task t's weights for one chunk: θ₀ + λ·(M_t ⊙ τ_uni), in f32 (the host narrows to the task's dtype).
// The product is kept apart from the sum (no fused multiply-add) so it rounds as the CPU twin does.
//
// Work division: one invocation per element, 2-D dispatch (groups_x workgroups per row).
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        the base chunk in its stored dtype
//   2  tau_uni: array<f32>       storage, read
//   3  mask: array<u32>          storage, read        the task's mask words for this chunk
//   4  out: array<f32>           storage, read_write

override WORKGROUP_SIZE: u32 = 256;
override BASE_DTYPE: u32 = 0;

struct Params {
  numel: u32,
  groups_x: u32,
  lambda: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tau_uni: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn base_at(i: u32) -> f32 {
  return decode(base[word_index(i, BASE_DTYPE)], i, BASE_DTYPE);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let b = base_at(i);
  if (((mask[i >> 5u] >> (i & 31u)) & 1u) == 0u) {
    out[i] = b;
    return;
  }
  // Round the product to f32 through its bits before adding: compilers may not fuse what they
  // cannot see as one multiply-add.
  let product = bitcast<f32>(bitcast<u32>(params.lambda * tau_uni[i]));
  out[i] = b + product;
}
