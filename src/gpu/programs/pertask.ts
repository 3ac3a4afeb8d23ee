// The per-task methods' element-wise passes on the GPU (shaders/merge/pertask_bits.wgsl and
// pertask_reconstruct.wgsl), each with its CPU twin in src/merge/pertask/kernels.ts (on chunks in
// their stored dtype: src/merge/pertask/passes.ts), the GPU engine's per-task passes: TALL mask
// construction, T-Switch's binarise (its thresholds found on the CPU, which sorts), and the masked /
// binarised reconstruction. Tiled like the other programs; a tile with an input out of the exact
// range (exact.wgsl), or a whole call with α or λ out of mul_rn's range, runs on the twin instead.
import bitsWgsl from '../../../shaders/merge/pertask_bits.wgsl?raw';
import reconstructWgsl from '../../../shaders/merge/pertask_reconstruct.wgsl?raw';
import { dtypeBytes } from '../../formats/dtype';
import type {
  PerTaskBitsInput,
  PerTaskReconstructInput,
  RawChunk,
  TallMaskInput,
  TSwitchBitsInput,
} from '../../merge/engine';
import {
  perTaskReconstructPass,
  reconstructNumel,
  tallMaskPass,
  tSwitchBitsPass,
} from '../../merge/pertask/passes';
import { input, output, uniform, type PassSpec } from '../runtime/pass';
import type { GpuRuntime } from '../runtime/runtime';
import { stitch } from '../runtime/tiles';
import { DTYPE_CODE, lambdaInRange, mergeShader, storedBytes, wordBytes } from './chunk';

const bitsCode = mergeShader(bitsWgsl);
const reconstructCode = mergeShader(reconstructWgsl);
/** Tiles start on whole mask words of whole 64-invocation workgroups. */
const TILE_UNIT = 64 * 32;

const slice = (c: RawChunk, start: number, end: number): RawChunk => ({
  bytes: c.bytes.subarray(start * dtypeBytes(c.dtype), end * dtypeBytes(c.dtype)),
  dtype: c.dtype,
});

type BitsMode =
  | { readonly mode: 'tall'; readonly tau: Float32Array; readonly lambda: number }
  | {
      readonly mode: 'switch';
      readonly tp: number;
      readonly tn: number;
    };

function bitsPass(x: PerTaskBitsInput, m: BitsMode): PassSpec {
  const n = x.numel;
  const words = Math.ceil(n / 32);
  const params = new ArrayBuffer(32);
  return {
    program: `pertask-bits-${m.mode}`,
    label: m.mode === 'tall' ? 'tall mask' : 't-switch binarise',
    code: bitsCode,
    constants: {
      WORKGROUP_SIZE: 64,
      BASE_DTYPE: DTYPE_CODE[x.base.dtype],
      TASK_DTYPE: DTYPE_CODE[x.task.dtype],
      MODE: m.mode === 'tall' ? 0 : 1,
    },
    workgroups: Math.ceil(words / 64),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 2).set([n, gx]);
      new Float32Array(params, 8, 3).set(m.mode === 'tall' ? [m.lambda, 0, 0] : [0, m.tp, m.tn]);
      return [
        uniform('params', params),
        input('base', storedBytes(x.base, n), wordBytes(n, x.base.dtype)),
        input('task', storedBytes(x.task, n), wordBytes(n, x.task.dtype)),
        m.mode === 'tall' ? input('tau', m.tau.subarray(0, n)) : input('tau', new Float32Array(1)),
        output('a', words * 4),
        output('b', words * 4, 'zero'),
        output('flag', 4, 'zero'),
      ];
    },
  };
}

function bitsOnCpu(x: PerTaskBitsInput, m: BitsMode): { a: Uint32Array; b: Uint32Array } {
  if (m.mode === 'tall') {
    const a = tallMaskPass({ ...x, tau: m.tau, lambda: m.lambda });
    return { a, b: new Uint32Array(a.length) };
  }
  const r = tSwitchBitsPass({ ...x, tp: m.tp, tn: m.tn });
  return { a: r.keep, b: r.sign };
}

async function bits(
  rt: GpuRuntime,
  x: PerTaskBitsInput,
  m: BitsMode,
): Promise<{ a: Uint32Array; b: Uint32Array }> {
  const n = x.numel;
  if (n === 0) return { a: new Uint32Array(0), b: new Uint32Array(0) };
  if (m.mode === 'tall' && !lambdaInRange(m.lambda)) return bitsOnCpu(x, m);
  const tiles = await rt.tiles(n, rt.tileElements(4, TILE_UNIT), async (start, end, slot) => {
    const tile: PerTaskBitsInput = {
      numel: end - start,
      base: slice(x.base, start, end),
      task: slice(x.task, start, end),
    };
    const tm: BitsMode = m.mode === 'tall' ? { ...m, tau: m.tau.subarray(start, end) } : m;
    const r = await rt.run(bitsPass(tile, tm), slot);
    if (r.u32('flag')[0]) return bitsOnCpu(tile, tm);
    const words = Math.ceil((end - start) / 32);
    return { a: r.u32('a').slice(0, words), b: r.u32('b').slice(0, words) };
  });
  const words = Math.ceil(n / 32);
  return {
    a: stitch(new Uint32Array(words), tiles, (o) => o.a, 1 / 32),
    b: stitch(new Uint32Array(words), tiles, (o) => o.b, 1 / 32),
  };
}

/** GPU twin of tallMask: task t's TALL mask words over a chunk. */
export async function tallMaskGpu(rt: GpuRuntime, x: TallMaskInput): Promise<Uint32Array> {
  return (await bits(rt, x, { mode: 'tall', tau: x.tau, lambda: x.lambda })).a;
}

/** GPU twin of tSwitchBits: keep and sign words over a chunk, given process_matrix's thresholds. */
export async function tSwitchBitsGpu(
  rt: GpuRuntime,
  x: TSwitchBitsInput,
): Promise<{ keep: Uint32Array; sign: Uint32Array }> {
  const r = await bits(rt, x, { mode: 'switch', tp: x.tp, tn: x.tn });
  return { keep: r.a, sign: r.b };
}

/** The modes with a program (TSV-C's run on the CPU twin). */
type ReconstructInput = Extract<PerTaskReconstructInput, { mode: 'masked' | 'switch' }>;
const numelOf = reconstructNumel;

function reconstructPass(x: ReconstructInput): PassSpec {
  const n = numelOf(x);
  const words = Math.ceil(n / 32);
  const params = new ArrayBuffer(16);
  return {
    program: `pertask-reconstruct-${x.mode}`,
    label: `${x.mode} reconstruct`,
    code: reconstructCode,
    constants: {
      WORKGROUP_SIZE: 256,
      BASE_DTYPE: DTYPE_CODE[x.base.dtype],
      MODE: x.mode === 'masked' ? 0 : 1,
    },
    workgroups: Math.ceil(n / 256),
    bindings: ([gx]) => {
      new Uint32Array(params, 0, 2).set([n, gx]);
      new Float32Array(params, 8, 1)[0] = x.mode === 'masked' ? x.alpha : x.scale;
      return [
        uniform('params', params),
        input('base', storedBytes(x.base, n), wordBytes(n, x.base.dtype)),
        x.mode === 'masked' ? input('tau', x.tau) : input('tau', new Float32Array(1)),
        input('bits', (x.mode === 'masked' ? x.mask : x.keep).subarray(0, words)),
        x.mode === 'masked' ? input('signs', new Uint32Array(1)) : input('signs', x.sign.subarray(0, words)),
        output('out', n * 4),
        output('flag', 4, 'zero'),
      ];
    },
  };
}

const reconstructOnCpu = perTaskReconstructPass;

/** GPU twin of maskedReconstruct / tSwitchReconstruct: a task's f32 weights over a chunk. */
export async function perTaskReconstructGpu(
  rt: GpuRuntime,
  x: PerTaskReconstructInput,
): Promise<Float32Array> {
  const n = numelOf(x);
  if (n === 0) return new Float32Array(0);
  // TSV-C's low-rank products and own-τ sums have no program: the CPU twin computes them.
  if (x.mode === 'lowrank' || x.mode === 'dense') return reconstructOnCpu(x);
  if (x.mode === 'masked' && !lambdaInRange(x.alpha)) return reconstructOnCpu(x);
  const tiles = await rt.tiles(n, rt.tileElements(4, TILE_UNIT), async (start, end, slot) => {
    const w0 = start / 32;
    const w1 = Math.ceil(end / 32);
    const tile: ReconstructInput =
      x.mode === 'masked'
        ? {
            ...x,
            base: slice(x.base, start, end),
            tau: x.tau.subarray(start, end),
            mask: x.mask.subarray(w0, w1),
          }
        : {
            ...x,
            base: slice(x.base, start, end),
            numel: end - start,
            keep: x.keep.subarray(w0, w1),
            sign: x.sign.subarray(w0, w1),
          };
    const r = await rt.run(reconstructPass(tile), slot);
    return r.u32('flag')[0] ? reconstructOnCpu(tile) : r.f32('out').slice(0, end - start);
  });
  return stitch(new Float32Array(n), tiles, (o) => o);
}
