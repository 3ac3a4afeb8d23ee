// LoRA, W + s·B·A over a range of an adapted weight's elements: GPU twin of `loraDelta` (CPU:
// src/peft/kernel.ts, `cpuLoraKernel`). WGSL: shaders/lora.wgsl (exact.wgsl prepended). The host
// sends only factors and a scale in the range where the shader's arithmetic is exact (`gpuCanTake`);
// the kernel flags a base value out of range, and that tile goes to the CPU twin.
import exactWgsl from '../../../shaders/merge/exact.wgsl?raw';
import loraWgsl from '../../../shaders/lora.wgsl?raw';
import type { LoraFactors } from '../../peft/kernel';
import { input, output, uniform, type PassSpec } from '../runtime/pass';

export const LORA_WORKGROUP = 256;
const code = exactWgsl + loraWgsl;
/** Ranks the shader's bounds allow (|acc| < r·2^60 stays far below 2^128). */
const MAX_RANK = 2 ** 16;

/** The flag word as the host sets it, and as the shader leaves it when a base value is out of range. */
export const RAN = 2;
export const OUT_OF_RANGE = 1;

/** ±0 or 2^-30 ≤ |x| < 2^30: the factors' range in which the shader's arithmetic is exact. */
function factorInRange(x: number): boolean {
  const m = Math.abs(x);
  return m === 0 || (m >= 2 ** -30 && m < 2 ** 30);
}

/** Factors the shader can take exactly, and whose indices it can form; else they go to the CPU twin. */
export function gpuCanTake(f: LoraFactors, maxBinding: number): boolean {
  const s = Math.fround(f.scale);
  return (
    f.r >= 1 &&
    f.r <= MAX_RANK &&
    f.a.length % f.r === 0 &&
    f.b.length % f.r === 0 &&
    f.a.byteLength <= maxBinding &&
    f.b.byteLength <= maxBinding &&
    s >= 2 ** -20 &&
    s <= 2 ** 20 &&
    f.a.every(factorInRange) &&
    f.b.every(factorInRange)
  );
}

/** The pass over base values `w` (elements first … of the weight), on A and B kept on the device. */
export function loraPass(
  f: LoraFactors,
  factors: { readonly a: GPUBuffer; readonly b: GPUBuffer },
  w: Float32Array,
  first: number,
): PassSpec {
  const n = w.length;
  const row0 = Math.floor(first / f.cols);
  const params = new ArrayBuffer(32);
  return {
    program: 'lora',
    code,
    constants: { WORKGROUP_SIZE: LORA_WORKGROUP, FAN_IN_FAN_OUT: f.fanInFanOut ? 1 : 0 },
    workgroups: Math.ceil(n / LORA_WORKGROUP),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 7).set([n, row0, first - row0 * f.cols, f.cols, f.r, f.a.length / f.r, gx]);
      new Float32Array(params, 28, 1)[0] = f.scale;
      return [
        uniform('params', params),
        { name: 'a', use: 'in', bytes: f.a.byteLength, kept: factors.a },
        { name: 'b', use: 'in', bytes: f.b.byteLength, kept: factors.b },
        input('w', w),
        output('out', n * 4),
        output('flag', 4, [{ at: 0, data: new Uint32Array([RAN]) }]),
      ];
    },
  };
}
