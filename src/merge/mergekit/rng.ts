// The seeded generator behind mergekit's random drops (dare_*: Bernoulli(density); della*: the
// rank-based probabilities). mergekit draws from torch's global generator, whose bits depend on the
// device, the dtype and the order tensors are visited; ours is counter-based instead: element i of
// task t in tensor `name` gets one 32-bit word from a hash of (seed, name, t, i) alone, so any
// chunking of a tensor, any engine and any order of visit give the same bits. The hash is Chris
// Wellons' "lowbias32" integer finalizer (32-bit multiplies and shifts only, so a shader can
// compute the same words), the tensor name is hashed by 32-bit FNV-1a over its UTF-8 bytes.
//   key(seed, name, t) = mix(mix(mix(seed) ^ fnv1a(name)) ^ (t + 1))
//   word(i)            = mix(mix(i ^ key) + 0x9e3779b9)
//   uniform(i)         = (word(i) >>> 8) · 2⁻²⁴          (exact in f32, in [0, 1))
// and an element is kept when uniform(i) < p, as torch.bernoulli keeps it when its uniform < p.

/** lowbias32: a 32-bit integer finalizer with low bias. */
export function mix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** 32-bit FNV-1a over the UTF-8 bytes of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** The stream of one task's drops in one tensor. */
export function streamKey(seed: number, tensorName: string, task: number): number {
  return mix(mix(mix(seed >>> 0) ^ fnv1a(tensorName)) ^ ((task + 1) >>> 0));
}

/** Element i's uniform in [0, 1), a multiple of 2⁻²⁴. */
export function uniformAt(key: number, index: number): number {
  const word = mix((mix((index ^ key) >>> 0) + 0x9e3779b9) >>> 0);
  return (word >>> 8) * 2 ** -24;
}
