// mergekit's `random` sparsification (DARE) without the rescale: τ ⊙ Bernoulli(density), GPU twin of
// `randomDrop` (src/merge/mergekit/sparsify.ts). The generator is the project's counter-based one
// (src/merge/mergekit/rng.ts), 32-bit multiplies and shifts only, so the words are the CPU's:
//   word(i) = mix(mix(i ^ key) + 0x9e3779b9), uniform(i) = (word(i) >> 8) · 2^-24 (exact in f32),
// and element i is kept when uniform(i) < p, with p the density (an f32) or, with PER_ELEMENT (DELLA),
// element i's own probability. A kept element is τ's bits, a dropped
// one τ's signed zero (τ·0): no float arithmetic touches τ, so subnormals pass as they are. NaN/±∞
// (whose product with 0 is NaN) raise `out_of_range` and the host recomputes the tile.
//
// Bindings (group 0):
//   0  params: Params            uniform
//   1  tau: array<u32>           storage, read        τ, f32 words
//   2  out: array<u32>           storage, read_write  [numel]
//   3  out_of_range: atomic<u32> storage, read_write
//   4  probs: array<f32>         storage, read        [numel] with PER_ELEMENT (else one unused word)

override WORKGROUP_SIZE: u32 = 256;
override PER_ELEMENT: u32 = 0;

struct Params {
  numel: u32,
  key: u32,
  start: u32, // the tile's first element in the tensor (the counter is the tensor's index)
  groups_x: u32,
  density: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tau: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_of_range: atomic<u32>;
@group(0) @binding(4) var<storage, read> probs: array<f32>;

// lowbias32 (rng.ts `mix`): u32 multiplies wrap, as Math.imul.
fn mix32(v: u32) -> u32 {
  var x = v ^ (v >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * params.groups_x + wid.x) * WORKGROUP_SIZE + lid;
  if (i >= params.numel) {
    return;
  }
  let bits = tau[i];
  if ((bits & 0x7f800000u) == 0x7f800000u) {
    atomicStore(&out_of_range, 1u);
  }
  let word = mix32(mix32((params.start + i) ^ params.key) + 0x9e3779b9u);
  let u = f32(word >> 8u) * (1.0 / 16777216.0);
  let p = select(params.density, probs[min(i, arrayLength(&probs) - 1u)], PER_ELEMENT == 1u);
  out[i] = select(bits & 0x80000000u, bits, u < p);
}
