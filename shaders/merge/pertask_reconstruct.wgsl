// A per-task method's task weights for one chunk, in f32 (the host narrows to the task's dtype):
//   MODE 0  masked (TALL masks, Consensus; eval.py / apply_to): θ₀ + α·(τ ⊙ m), τ ⊙ m as torch's
//           `τ * mask` — τ·0, a zero with τ's sign, where the bit is off;
//   MODE 1  T-Switch (load_task_vector): θ₀ + b·s, b = +1, −1 or 0 from the keep and sign bits.
// CPU twins: maskedReconstruct and tSwitchReconstruct in src/merge/pertask/kernels.ts. α·v is
// exact.wgsl's `mul_rn` (the host sends α only in its range) so no driver fuses it with the add;
// b·s is ±s or a signed zero, exact. Inputs out of range (exact.wgsl; τ like EMR's τ_uni, s like
// an input) raise `out_of_range` and the host recomputes the tile on the CPU.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  base: array<u32>          storage, read        the base chunk in its stored dtype
//   2  tau: array<f32>           storage, read        τ (MODE 0; one unused word for MODE 1)
//   3  bits: array<u32>          storage, read        mask (MODE 0) or keep words (MODE 1)
//   4  signs: array<u32>         storage, read        sign words (MODE 1; one unused word for MODE 0)
//   5  out: array<f32>           storage, read_write
//   6  out_of_range: atomic<u32> storage, read_write

override WORKGROUP_SIZE: u32 = 256;
override BASE_DTYPE: u32 = 0;
override MODE: u32 = 0;

struct Params {
  numel: u32,
  groups_x: u32,
  scale: f32, // α (MODE 0) or s (MODE 1)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read> tau: array<f32>;
@group(0) @binding(3) var<storage, read> bits: array<u32>;
@group(0) @binding(4) var<storage, read> signs: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_of_range: atomic<u32>;

fn tau_in_range(t: f32) -> bool {
  let b = bitcast<u32>(t);
  let exponent = (b >> 23u) & 0xffu;
  return (b & 0x7fffffffu) == 0u || (exponent >= 27u && exponent <= 226u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let base_word = base[word_index(i, BASE_DTYPE)];
  let theta0 = decode(base_word, i, BASE_DTYPE);
  var ok = in_range_at(base_word, i, BASE_DTYPE);
  let on = ((bits[i >> 5u] >> (i & 31u)) & 1u) == 1u;
  var v: f32;
  if (MODE == 0u) {
    let t = tau[i];
    ok = ok && tau_in_range(t);
    let masked = select(bitcast<f32>(bitcast<u32>(t) & 0x80000000u), t, on);
    v = mul_rn(params.scale, masked);
  } else {
    let s = params.scale;
    ok = ok && in_range_bits(bitcast<u32>(s));
    let negative = ((signs[i >> 5u] >> (i & 31u)) & 1u) == 1u;
    let signed_s = select(s, -s, negative);
    v = select(bitcast<f32>(bitcast<u32>(s) & 0x80000000u), signed_s, on);
  }
  if (!ok) {
    atomicStore(&out_of_range, 1u);
  }
  out[i] = theta0 + v;
}
