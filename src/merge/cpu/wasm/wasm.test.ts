// Plan: the WebAssembly SIMD kernels equal their JavaScript twins (../kernels.ts, the reference for
// the GPU kernels too) bit for bit — τ_uni's bits, every mask word, the f64 sums (Object.is), the
// conflict count, the NaN/±∞ counts per model, and the reconstructed task weights — on any size (odd, under one word, on and
// off 32-element boundaries), any number of tasks, and values drawn to hit the edges: ties
// between tasks, exact zeros of both signs, NaN, ±∞, subnormals, tiny sums whose mean rounds to 0.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { narrowFromF32, type MergeDType } from '../../../formats/dtype';
import type { RawChunk } from '../../engine';
import { CpuEngine } from '../engine';
import { emrChunk, emrReconstruct, maskWords, type EmrChunkOut } from '../kernels';
import { kernelModuleBytes } from './wasm-kernels';
import { kernelExports, wasmAvailable, WasmKernels } from './host';

const wasm = new WasmKernels();

const bits = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
const f64s = (f: Float64Array) =>
  Array.from(f, (x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x));
const same = (a: EmrChunkOut, b: EmrChunkOut) => {
  expect(bits(b.tauUni)).toEqual(bits(a.tauUni));
  expect(Array.from(b.masks)).toEqual(Array.from(a.masks));
  expect(f64s(b.sumAbsTau)).toEqual(f64s(a.sumAbsTau));
  expect(f64s(b.sumAbsMasked)).toEqual(f64s(a.sumAbsMasked));
  expect(b.conflicts).toBe(a.conflicts);
  expect(Array.from(b.nonFinite)).toEqual(Array.from(a.nonFinite));
};

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38];

/** Base and task values: small random task vectors, with specials, ties and zeros mixed in. */
const chunkArb = fc
  .record({
    n: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 70, max: 700 })),
    numTasks: fc.integer({ min: 1, max: 10 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    special: fc.double({ min: 0, max: 0.3, noNaN: true }),
  })
  .map(({ n, numTasks, seed, special }) => {
    let s = seed;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const pick = () => SPECIAL[Math.floor(rnd() * SPECIAL.length)] as number;
    const base = Float32Array.from({ length: n }, () => (rnd() < special / 3 ? pick() : rnd() * 2 - 1));
    const tasks: Float32Array[] = [];
    for (let t = 0; t < numTasks; t++) {
      tasks.push(
        base.map((b, i) => {
          const r = rnd();
          if (r < special) return pick();
          if (r < 0.3) return b; // τ = 0
          if (r < 0.45 && t > 0) return (tasks[t - 1] as Float32Array)[i] as number; // a tie
          if (r < 0.5) return b + (rnd() < 0.5 ? 1e-45 : -1e-45); // a subnormal τ
          return b + (rnd() * 2 - 1) * 0.01;
        }),
      );
    }
    return { n, base, tasks };
  });

describe('WebAssembly SIMD kernels', () => {
  it('are available here (Node and Chromium have WebAssembly SIMD)', () => {
    expect(wasmAvailable()).toBe(true);
    expect(new CpuEngine().simd).toBe(true);
    expect(new CpuEngine({ wasm: false }).simd).toBe(false);
  });

  it('the module is built the same way every time', () => {
    expect(kernelModuleBytes()).toEqual(kernelModuleBytes());
    expect(WebAssembly.validate(kernelModuleBytes(true))).toBe(true);
  });

  it('EMR equals the JavaScript twin bit for bit', () => {
    fc.assert(
      fc.property(chunkArb, ({ n, base, tasks }) => {
        same(emrChunk(base, tasks, n), wasm.emr(base, tasks, n));
      }),
      { numRuns: 300 },
    );
  });

  it('the reconstruction equals the JavaScript twin bit for bit', () => {
    fc.assert(
      fc.property(
        chunkArb,
        fc.constantFrom(0, 1, 0.7, 1.3, -2, NaN, Infinity, 1e-40),
        fc.nat(),
        ({ n, base, tasks }, lambda, tRaw) => {
          const r = emrChunk(base, tasks, n);
          const t = tRaw % tasks.length;
          const words = maskWords(n);
          const a = emrReconstruct(base, r.tauUni, r.masks, t * words, lambda);
          expect(bits(wasm.reconstruct(base, r.tauUni, r.masks, t * words, lambda))).toEqual(bits(a));
          const out = new Float32Array(n);
          wasm.reconstructInto(base, r.tauUni, r.masks, t * words, lambda, out);
          expect(bits(out)).toEqual(bits(a));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a piece of a tensor: bits past the piece in its last mask word are left alone', () => {
    const n = 100;
    const base = Float32Array.from({ length: n }, (_, i) => i / 7);
    const tau = Float32Array.from({ length: n }, (_, i) => (i % 3) - 1);
    const mask = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    for (const m of [33, 64, 70]) {
      const a = emrReconstruct(base.subarray(0, m), tau.subarray(0, m), mask, 0, 0.5);
      expect(bits(wasm.reconstruct(base.subarray(0, m), tau.subarray(0, m), mask, 0, 0.5))).toEqual(bits(a));
    }
  });

  it('the engines agree on raw chunks in every dtype, unaligned F32 bytes included', async () => {
    const js = new CpuEngine({ wasm: false });
    const simd = new CpuEngine();
    await fc.assert(
      fc.asyncProperty(
        chunkArb,
        fc.constantFrom<MergeDType>('F32', 'F16', 'BF16'),
        fc.boolean(),
        async ({ n, base, tasks }, dtype, unaligned) => {
          const raw = (v: Float32Array): RawChunk => {
            const b = narrowFromF32(v, dtype);
            if (!unaligned) return { bytes: b.slice(), dtype };
            const shifted = new Uint8Array(b.byteLength + 1);
            shifted.set(b, 1);
            return { bytes: shifted.subarray(1), dtype };
          };
          const chunk = { numel: n, base: raw(base), tasks: tasks.map(raw) };
          const a = await js.emr(chunk);
          same(a, await simd.emr(chunk));
          const words = maskWords(n);
          for (const out of ['F32', 'BF16'] as const) {
            expect(await simd.emrReconstruct(chunk.base, a.tauUni, a.masks, words - words, 0.9, out)).toEqual(
              await js.emrReconstruct(chunk.base, a.tauUni, a.masks, 0, 0.9, out),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('NaN/±∞ counts: only where Σ|τ| says so, and then exactly (finite inputs whose τ overflows count 0)', () => {
    const n = 70;
    const base = Float32Array.from({ length: n }, (_, i) => i / 100);
    const tasks = [0, 1, 2].map((t) => base.map((b, i) => b + (i % 5) * 0.01 * (t - 1)));
    expect(Array.from(wasm.emr(base, tasks, n).nonFinite)).toEqual([0, 0, 0, 0]);
    base[69] = NaN; // every τ_t at 69 is NaN; the base counts once
    (tasks[0] as Float32Array)[3] = Infinity;
    (tasks[0] as Float32Array)[40] = -Infinity;
    (tasks[2] as Float32Array)[33] = NaN;
    (tasks[1] as Float32Array)[7] = 3.4e38;
    base[7] = -3.4e38; // τ_1 overflows to +∞ from finite values: nothing to count there
    const r = wasm.emr(base, tasks, n);
    expect(Array.from(r.nonFinite)).toEqual([1, 2, 0, 1]);
    expect(Array.from(emrChunk(base, tasks, n).nonFinite)).toEqual([1, 2, 0, 1]);
  });

  it('large chunks (the memory grows and is reused)', () => {
    for (const n of [1 << 18, 3, (1 << 17) + 5]) {
      const base = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      const tasks = [1, 2, 3].map((k) => base.map((b, i) => b + Math.sin(i * k) * 0.01));
      same(emrChunk(base, tasks, n), wasm.emr(base, tasks, n));
    }
  });

  it('counts mask ones as a bit-by-bit count does (the arena’s per-task ones)', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const x = kernelExports(memory);
    expect(x).not.toBeNull();
    fc.assert(
      fc.property(fc.uint32Array({ minLength: 1, maxLength: 300 }), fc.nat(15), (words, at) => {
        const view = new Uint32Array(memory.buffer, 4 * at, words.length);
        view.set(words);
        let ones = 0;
        for (const w of words) for (let b = 0; b < 32; b++) ones += (w >>> b) & 1;
        expect(x?.popcount(4 * at, words.length)).toBe(ones);
      }),
    );
  });
});
