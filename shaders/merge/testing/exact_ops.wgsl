// Test kernel for exact.wgsl (prepended by src/gpu/exact.gpu.test.ts): its helpers element-wise,
// to be held against JavaScript's correctly rounded f32 arithmetic and the dtype's bit layout.
//   products[i] = mul_rn(a[i], b[i]); quotients[i] = div_rn(a[i], divisors[i]);
//   in_range[i] = in_range_at(words[...], i, DTYPE) for element i of a chunk stored in DTYPE
//
// Work division: one invocation per element (of the longer of the two outputs), one row of
// workgroups: the tests stay small.
//
// Bindings (group 0):
//   0  a: array<f32>             storage, read
//   1  b: array<f32>             storage, read
//   2  divisors: array<u32>      storage, read
//   3  products: array<f32>      storage, read_write
//   4  quotients: array<f32>     storage, read_write
//   5  words: array<u32>         storage, read        a chunk in its stored dtype
//   6  in_range: array<u32>      storage, read_write  1 where in range, else 0

override WORKGROUP_SIZE: u32 = 64;
override DTYPE: u32 = 0;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> divisors: array<u32>;
@group(0) @binding(3) var<storage, read_write> products: array<f32>;
@group(0) @binding(4) var<storage, read_write> quotients: array<f32>;
@group(0) @binding(5) var<storage, read> words: array<u32>;
@group(0) @binding(6) var<storage, read_write> in_range: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i < arrayLength(&products)) {
    products[i] = mul_rn(a[i], b[i]);
    quotients[i] = div_rn(a[i], divisors[i]);
  }
  if (i < arrayLength(&in_range)) {
    in_range[i] = u32(in_range_at(words[select(i, i >> 1u, DTYPE != 0u)], i, DTYPE));
  }
}
