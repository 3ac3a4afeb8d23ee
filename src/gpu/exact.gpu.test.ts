// Plan: exact.wgsl's helpers against JavaScript's correctly rounded f32 arithmetic (Math.fround of
// the f64 result, exact for one product or quotient of f32 values), in dawn.node and in Chromium.
// mul_rn over the products the kernels form (λ in [2^-20, 2^20] times a value in range), with the
// cases that find rounding bugs counted so they cannot silently vanish: exact ties (to even, both
// ways), a round-up that carries into the exponent, both significand ranges of the product, signs
// and zeros. div_rn for every divisor 1 … 128 on random and extreme significands, and ±0. The range
// test at every boundary of every dtype, in both halves of a word.
import { describe, expect, it } from 'vitest';
import exactWgsl from '../../shaders/merge/exact.wgsl?raw';
import exactOpsWgsl from '../../shaders/merge/testing/exact_ops.wgsl?raw';
import type { Gpu } from './device';
import { testGpu } from './testing/gpu';

const WORKGROUP_SIZE = 64;

interface OpsInput {
  readonly a: Float32Array<ArrayBuffer>;
  readonly b: Float32Array<ArrayBuffer>;
  readonly divisors: Uint32Array<ArrayBuffer>;
  /** A chunk in its stored dtype (0 f32, 1 f16, 2 bf16) and its element count, for the range test. */
  readonly words?: Uint32Array<ArrayBuffer>;
  readonly count?: number;
  readonly dtype?: number;
}

async function runOps(gpu: Gpu, input: OpsInput) {
  const { device } = gpu;
  const n = input.a.length;
  const count = input.count ?? 1;
  const words = input.words ?? new Uint32Array(1);
  const module = device.createShaderModule({ label: 'exact ops', code: exactWgsl + exactOpsWgsl });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE, DTYPE: input.dtype ?? 0 } },
  });
  const upload = (data: Uint32Array<ArrayBuffer> | Float32Array<ArrayBuffer>) => {
    const buffer = device.createBuffer({
      size: Math.max(16, data.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const output = (bytes: number) =>
    device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const products = output(n * 4);
  const quotients = output(n * 4);
  const inRange = output(count * 4);
  const total = (2 * n + count) * 4;
  const readback = device.createBuffer({
    size: total,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const inputs = [upload(input.a), upload(input.b), upload(input.divisors)];
  const buffers = [...inputs, products, quotients, upload(words), inRange];
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    }),
  );
  pass.dispatchWorkgroups(Math.ceil(Math.max(n, count) / WORKGROUP_SIZE));
  pass.end();
  encoder.copyBufferToBuffer(products, 0, readback, 0, n * 4);
  encoder.copyBufferToBuffer(quotients, 0, readback, n * 4, n * 4);
  encoder.copyBufferToBuffer(inRange, 0, readback, 2 * n * 4, count * 4);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const out = readback.getMappedRange().slice(0);
  readback.unmap();
  for (const b of buffers) b.destroy();
  readback.destroy();
  return {
    products: new Uint32Array(out, 0, n),
    quotients: new Uint32Array(out, n * 4, n),
    inRange: Array.from(new Uint32Array(out, 2 * n * 4, count)),
  };
}

let seed = 0x9e3779b9;
function random(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed;
}

/** The f32 with this sign, unbiased exponent and 23-bit fraction. */
function f32(sign: number, exponent: number, fraction: number): number {
  return new Float32Array(
    new Uint32Array([((sign << 31) | ((exponent + 127) << 23) | fraction) >>> 0]).buffer,
  )[0] as number;
}

const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

/** How the exact product of two f32 rounds: 'tie' when the bits cut off are exactly half an ULP. */
function productCase(a: number, b: number): { tie: boolean; carry: boolean; wide: boolean } {
  const significand = (x: number) => ((bitsOf(new Float32Array([x]))[0] as number) & 0x7fffff) | 0x800000;
  const product = significand(a) * significand(b); // in [2^46, 2^48): exact in f64
  const wide = product >= 2 ** 47;
  const unit = wide ? 2 ** 24 : 2 ** 23; // weight of the last bit kept
  const kept = Math.floor(product / unit);
  const rest = product - kept * unit;
  const tie = rest === unit / 2;
  const up = rest > unit / 2 || (tie && kept % 2 === 1);
  return { tie, carry: up && kept + 1 === 2 ** 24, wide };
}

describe('mul_rn', () => {
  it('rounds like the CPU twin on the products the kernels form, ties and carries included', async () => {
    const gpu = await testGpu();
    const pairs: [number, number][] = [
      [f32(0, 0, 1), 1.5], // 1.5·(1 + 2^-23): a tie, rounded up to even
      [f32(0, 0, 3), 1.5], // a tie, rounded down to even
      [f32(0, 0, 0x7fffff), f32(0, 0, 1)], // just under 2: no carry
      [f32(0, 0, 0x7fffff), f32(0, 0, 0x7fffff)], // the widest product
      [0, 0.3],
      [-0, 0.3],
      [1, -0],
      [-(2 ** -64), 2 ** 20],
      [2 ** 64 - 2 ** 40, -(2 ** 20)],
      [f32(1, -100, 0x123456), f32(0, -20, 0x654321)],
    ];
    // significands whose product lies just under 2^47 and rounds up to it: a carry into the exponent
    for (let ma = 0xb504f3 - 64; ma <= 0xb504f3 + 64; ma++) {
      const mb = Math.floor((2 ** 47 - 1) / ma);
      if (ma * mb >= 2 ** 47 - 2 ** 22) pairs.push([f32(0, 0, ma - 0x800000), f32(1, 0, mb - 0x800000)]);
    }
    const significands = [0, 1, 2, 3, 0x400000, 0x400001, 0x555555, 0x2aaaaa, 0x7ffffe, 0x7fffff];
    for (const x of significands)
      for (const y of significands) pairs.push([f32(0, 0, x), f32(1, -3, y)], [f32(1, 5, y), f32(0, 7, x)]);
    for (let i = 0; i < 20_000; i++) {
      const exponentA = (random() % 200) - 100; // τ_uni's range
      const exponentB = (random() % 41) - 20; // λ's range
      pairs.push([
        f32(random() & 1, exponentA, random() & 0x7fffff),
        f32(random() & 1, exponentB, random() & 0x7fffff),
      ]);
    }
    const a = Float32Array.from(pairs, ([x]) => x);
    const b = Float32Array.from(pairs, ([, y]) => y);
    const { products } = await runOps(gpu, { a, b, divisors: new Uint32Array(a.length).fill(1) });
    const want = bitsOf(Float32Array.from(pairs, ([x, y]) => Math.fround(x * y)));
    const cases = pairs.filter(([x, y]) => x !== 0 && y !== 0).map(([x, y]) => productCase(x, y));
    expect(cases.filter((c) => c.tie).length).toBeGreaterThan(2);
    expect(cases.filter((c) => c.carry).length).toBeGreaterThan(0);
    expect(cases.filter((c) => c.wide).length).toBeGreaterThan(1000);
    expect(cases.filter((c) => !c.wide).length).toBeGreaterThan(1000);
    const wrong = [...products.keys()].filter((i) => products[i] !== want[i]);
    expect(wrong.map((i) => [pairs[i], products[i], want[i]])).toEqual([]);
  });
});

describe('div_rn', () => {
  it('divides by every count 1 … 128 as the CPU twin does', async () => {
    const gpu = await testGpu();
    const a: number[] = [];
    const divisors: number[] = [];
    for (let n = 1; n <= 128; n++) {
      const dividends = [
        0,
        -0,
        1,
        -1,
        f32(0, 0, 0x7fffff),
        f32(1, 63, 0x7fffff),
        f32(0, -87, 0),
        f32(0, -87, 1),
      ];
      for (let k = 0; k < 120; k++)
        dividends.push(f32(random() & 1, (random() % 158) - 87, random() & 0x7fffff));
      for (const x of dividends) {
        a.push(x);
        divisors.push(n);
      }
    }
    const input = Float32Array.from(a);
    const { quotients } = await runOps(gpu, {
      a: input,
      b: new Float32Array(a.length).fill(1),
      divisors: Uint32Array.from(divisors),
    });
    const want = bitsOf(Float32Array.from(a, (x, i) => Math.fround(x / (divisors[i] as number))));
    const wrong = [...quotients.keys()].filter((i) => quotients[i] !== want[i]);
    expect(wrong.map((i) => [a[i], divisors[i], quotients[i], want[i]])).toEqual([]);
  });
});

describe('in_range_at', () => {
  const none = { a: new Float32Array(1), b: new Float32Array(1), divisors: new Uint32Array([1]) };

  it('f32: ±0 and 2^-64 ≤ |x| < 2^64', async () => {
    const gpu = await testGpu();
    const cases: [number, number][] = [
      [0, 1],
      [0x80000000, 1],
      [0x00000001, 0], // subnormal
      [0x807fffff, 0],
      [0x00800000, 0], // least normal
      [(62 << 23) | 0x7fffff, 0], // just under 2^-64
      [63 << 23, 1], // 2^-64
      [(0x80000000 | (190 << 23) | 0x7fffff) >>> 0, 1], // just under 2^64
      [191 << 23, 0], // 2^64
      [0x7f800000, 0], // +∞
      [0xff800000, 0],
      [0x7fc00000, 0], // NaN
      [0x3f800000, 1],
    ];
    const { inRange } = await runOps(gpu, {
      ...none,
      words: Uint32Array.from(cases, ([w]) => w),
      count: cases.length,
      dtype: 0,
    });
    expect(inRange).toEqual(cases.map(([, ok]) => ok));
  });

  for (const [dtype, name, cases] of [
    [
      1,
      'f16: ±0 and every finite normal value',
      [
        [0x0000, 1],
        [0x8000, 1],
        [0x0001, 0], // subnormal
        [0x83ff, 0],
        [0x0400, 1], // least normal
        [0x7bff, 1], // 65504
        [0xfbff, 1],
        [0x7c00, 0], // ∞
        [0x7e00, 0], // NaN
        [0x3c00, 1],
      ],
    ],
    [
      2,
      'bf16: as f32, on the high half of the f32 pattern',
      [
        [0x0000, 1],
        [0x8000, 1],
        [0x0001, 0], // subnormal
        [0x0080, 0], // least normal, under 2^-64
        [0x1f80, 1], // 2^-64
        [0x1f7f, 0],
        [0x5f7f, 1], // just under 2^64
        [0x5f80, 0], // 2^64
        [0x7f80, 0], // ∞
        [0x7fc0, 0], // NaN
        [0xbf80, 1],
      ],
    ],
  ] as const) {
    it(name, async () => {
      const gpu = await testGpu();
      // each case in both halves of a word: element 2k is the low half, 2k + 1 the high one
      const halves = cases.flatMap(([h]) => [h, 0x3c00, 0x3c00, h]);
      const words = new Uint32Array(new Uint16Array(halves).buffer);
      const { inRange } = await runOps(gpu, { ...none, words, count: halves.length, dtype });
      // 0x3c00 is 1 in f16 and 2^-7 in bf16: in range either way
      expect(inRange).toEqual(cases.flatMap(([, ok]) => [ok, 1, 1, ok]));
    });
  }
});
