// The WebGPU merge engine: the runtime (./runtime) and one program per kernel (./programs) — EMR's
// fused elect/mask pass and reconstruction, averaging and Task Arithmetic, TIES's radix histogram
// and trimmed election, mergekit's element-wise passes, the per-task methods' mask, binarise and
// reconstruction passes; each program's CPU twin (src/merge/cpu/kernels.ts, through CpuEngine) is
// what the tests hold it equal to, and what it hands a tile it cannot compute exactly.
// Inputs go up in their stored dtype (f32/f16/bf16 words; the shaders decode them), the N task
// chunks packed in one buffer, in tiles over two pooled buffer sets (tile k+1 uploaded while tile
// k computes, also across calls issued without waiting), and every output of a tile comes back in
// one mapped read. Results equal the CPU twins' bit for bit on any device (shaders/merge/exact.wgsl):
// a kernel that meets a value outside the range where that holds (subnormal, tiny, huge, NaN, ±∞)
// says so, and that tile is recomputed by the CPU twin — rare in real checkpoints, and then exact
// rather than device-dependent. The same flag counts NaN/±∞ (`nonFinite`): a tile the kernel kept
// has none, and a flagged tile's count is the CPU twin's.
import type { MergeDType } from '../formats/dtype';
import { CpuEngine } from '../merge/cpu/engine';
import type {
  ChunkInput,
  EmrChunkOut,
  LinearChunkOut,
  MergeEngine,
  PerTaskReconstructInput,
  RawChunk,
  TallMaskInput,
  TiesChunkOut,
  TSwitchBitsInput,
} from '../merge/engine';
import {
  perTaskReconstructPass,
  reconstructNumel,
  tallMaskPass,
  tSwitchBitsPass,
} from '../merge/pertask/passes';
import { perTaskReconstructGpu, tallMaskGpu, tSwitchBitsGpu } from './programs/pertask';
import type { Gpu } from './device';
import type { MergeContext } from './programs/chunk';
import type { GtaMixInput } from '../merge/mergekit/gta-mix';
import { elect, residentElect } from './programs/elect';
import { gtaMix } from './programs/gta-mix';
import { randomDrop } from './programs/random-drop';
import { combine2, combineRows } from './programs/combine2';
import { linearMix } from './programs/linear-mix';
import { stockBlend } from './programs/stock-blend';
import { linearMix as linearMixCpu, type LinearMixInput } from '../merge/mergekit/linear-mix';
import { stockBlend as stockBlendCpu, type StockBlendInput } from '../merge/mergekit/stock-blend';
import {
  combineRows as combineRowsCpu,
  type Combine2,
  type CombineRowsInput,
} from '../merge/mergekit/slerp-mix';
import { histogram } from './programs/histogram';
import { linear } from './programs/linear';
import { reconstruct, residentReconstruct, type ReconstructInput } from './programs/reconstruct';
import { ties } from './programs/ties';
import { GpuRuntime } from './runtime/runtime';

export { MAX_GPU_TASKS } from './programs/chunk';
export { GpuAllocationError } from './runtime/allocations';

export interface GpuEngineOptions {
  /**
   * Test hook, injected from outside (src/gpu/testing/faults.ts, the studio's fault switches):
   * asked before each buffer request; true makes that request one the device refuses.
   */
  readonly refuseAllocation?: () => boolean;
  /**
   * Use the kernels' subgroup variants where the device has 'subgroups' (default true); false
   * forces the fallback, which gives the same bits (the tests and the benchmark compare them).
   */
  readonly subgroups?: boolean;
  /**
   * The per-task passes (tallMask, tSwitchBits, perTaskReconstruct) on fewer elements than this
   * run on their CPU twins: an upload, a dispatch and a read-back cost more than the pass itself
   * (default PERTASK_GPU_MIN_ELEMENTS; tests set 0 to send every call to the GPU).
   */
  readonly perTaskMinElements?: number;
  /**
   * mergekit's `linear`, `model_stock` and per-row nuslerp steps (linearMix, stockBlend,
   * combineRows) on fewer elements than this run on their CPU twins, for the same reason (default
   * MERGEKIT_GPU_MIN_ELEMENTS; tests set 0 to send every call to the GPU).
   */
  readonly mergekitMinElements?: number;
}

/**
 * Elements from which a per-task pass goes to the GPU: 64 Ki (256 KiB an f32 input), about where a
 * dispatch and its read-back stop costing more than the CPU's compare or multiply-add per element.
 */
export const PERTASK_GPU_MIN_ELEMENTS = 1 << 16;

/**
 * Elements from which mergekit's `linear`, `model_stock` and per-row nuslerp steps go to the GPU:
 * 64 Ki, as the per-task passes — one multiply-add or two per task and element, a pass the CPU
 * runs as fast as it reads, so a small tensor's upload and read-back cost more than it.
 */
export const MERGEKIT_GPU_MIN_ELEMENTS = 1 << 16;

export class GpuEngine implements MergeEngine {
  readonly kind = 'gpu' as const;
  /** Calls issued together pipeline (two buffer sets): the scheduler keeps one more in flight. */
  readonly overlap = true;
  readonly description: string;
  /** Whether the kernels run their subgroups variants (the device has 'subgroups' and they are on). */
  readonly usesSubgroups: boolean;
  private readonly ctx: MergeContext;
  private readonly perTaskMin: number;
  private readonly mergekitMin: number;

  constructor(
    gpu: Gpu,
    /** Destroy the device on dispose (when the engine was given a device of its own). */
    ownsDevice = false,
    options: GpuEngineOptions = {},
  ) {
    const rt = new GpuRuntime(gpu, { ownsDevice, ...options });
    const subgroups = options.subgroups ?? true;
    this.ctx = { rt, twin: new CpuEngine(), subgroups };
    this.usesSubgroups = subgroups && rt.features.has('subgroups');
    this.perTaskMin = options.perTaskMinElements ?? PERTASK_GPU_MIN_ELEMENTS;
    this.mergekitMin = options.mergekitMinElements ?? MERGEKIT_GPU_MIN_ELEMENTS;
    this.description = `GPU: ${gpu.info.name}${gpu.info.isSoftware ? ' (software adapter)' : ''}`;
  }

  emr(chunk: ChunkInput): Promise<EmrChunkOut> {
    return elect(this.ctx, chunk);
  }

  emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ): Promise<Uint8Array<ArrayBuffer>> {
    return reconstruct(this.ctx, { base, tauUni, mask, maskOffsetWords, lambda, dtype });
  }

  average(chunk: ChunkInput): Promise<LinearChunkOut> {
    return linear(this.ctx, chunk, 0, 0);
  }

  taskArithmetic(chunk: ChunkInput, lambda: number): Promise<LinearChunkOut> {
    return linear(this.ctx, chunk, 1, lambda);
  }

  absHistogram(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
    counts: Uint32Array,
  ): Promise<void> {
    return histogram(this.ctx, chunk, level, prefix, counts);
  }

  ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number): Promise<TiesChunkOut> {
    return ties(this.ctx, chunk, thresholds, lambda);
  }

  gtaMix(x: GtaMixInput): Promise<Float32Array> {
    return gtaMix(this.ctx, x);
  }

  randomDrop(tau: Float32Array, key: number, p: number | Float32Array): Promise<Float32Array> {
    return randomDrop(this.ctx, tau, key, p);
  }

  combine2(f: Combine2, v0: Float32Array, v1: Float32Array): Promise<Float32Array> {
    return combine2(this.ctx, f, v0, v1);
  }

  combineRows(x: CombineRowsInput): Promise<Float32Array> {
    if (x.v0.length < this.mergekitMin) return Promise.resolve(combineRowsCpu(x));
    return combineRows(this.ctx, x);
  }

  linearMix(x: LinearMixInput): Promise<Float32Array> {
    if ((x.tasks[0]?.length ?? 0) < this.mergekitMin) return Promise.resolve(linearMixCpu(x));
    return linearMix(this.ctx, x);
  }

  stockBlend(x: StockBlendInput): Promise<Float32Array> {
    if (x.base.length < this.mergekitMin) return Promise.resolve(stockBlendCpu(x));
    return stockBlend(this.ctx, x);
  }

  tallMask(x: TallMaskInput): Promise<Uint32Array> {
    if (x.numel < this.perTaskMin) return Promise.resolve(tallMaskPass(x));
    return tallMaskGpu(this.ctx.rt, x);
  }

  tSwitchBits(x: TSwitchBitsInput): Promise<{ keep: Uint32Array; sign: Uint32Array }> {
    if (x.numel < this.perTaskMin) return Promise.resolve(tSwitchBitsPass(x));
    return tSwitchBitsGpu(this.ctx.rt, x);
  }

  perTaskReconstruct(x: PerTaskReconstructInput): Promise<Float32Array> {
    if (reconstructNumel(x) < this.perTaskMin) return Promise.resolve(perTaskReconstructPass(x));
    return perTaskReconstructGpu(this.ctx.rt, x);
  }

  /** The benchmark's view of the elect kernel alone, on resident buffers (programs/elect.ts). */
  residentElect(chunk: ChunkInput): { encode(pass: GPUComputePassEncoder): void; inputBytes: number } {
    return residentElect(this.ctx, chunk);
  }

  /** The benchmark's view of the reconstruction kernel alone, on resident buffers (programs/reconstruct.ts). */
  residentReconstruct(x: ReconstructInput): {
    encode(pass: GPUComputePassEncoder): void;
    inputBytes: number;
  } {
    return residentReconstruct(this.ctx, x);
  }

  dispose(): void {
    this.ctx.rt.dispose();
  }
}
