// Shared by the merge kernels (prepended to each by src/gpu/programs/chunk.ts; WGSL has no imports).
// Terms: a chunk's elements are stored in their checkpoint dtype inside u32 words, little-endian;
// `dtype` codes: 0 = f32 (one element a word), 1 = f16, 2 = bf16 (two elements a word, element i
// in the low half when i is even). Decoding is exact: f16 and bf16 widen to f32 without rounding.

fn word_index(i: u32, dtype: u32) -> u32 {
  return select(i, i >> 1u, dtype != 0u);
}

fn decode(word: u32, i: u32, dtype: u32) -> f32 {
  if (dtype == 1u) {
    return unpack2x16float(word)[i & 1u];
  }
  if (dtype == 2u) {
    return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (i & 1u) == 1u));
  }
  return bitcast<f32>(word);
}
