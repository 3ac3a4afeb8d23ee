// The CPU reference engine: widens each chunk to f32 and runs the kernels of ./kernels — EMR's
// through their WebAssembly SIMD twins (./wasm) where the runtime has WebAssembly SIMD, which give
// the same bits (tested); `{ wasm: false }` keeps to the JavaScript kernels.
import { narrowFromF32, widenToF32, type MergeDType } from '../../formats/dtype';
import type {
  ChunkInput,
  EmrInputViews,
  MergeEngine,
  PerTaskReconstructInput,
  RawChunk,
  TallMaskInput,
  TSwitchBitsInput,
} from '../engine';
import { perTaskReconstructPass, tallMaskPass, tSwitchBitsPass } from '../pertask/passes';
import * as k from './kernels';
import { gtaMix, type GtaMixInput } from '../mergekit/gta-mix';
import { probabilityDrop, randomDrop } from '../mergekit/sparsify';
import { combine2, combineRows, type Combine2, type CombineRowsInput } from '../mergekit/slerp-mix';
import { linearMix, type LinearMixInput } from '../mergekit/linear-mix';
import { stockBlend, type StockBlendInput } from '../mergekit/stock-blend';
import { wasmAvailable, WasmKernels } from './wasm/host';
import { makeArena, type ArenaHelper } from './wasm/arena';
import type { ArenaTensor, EmrArena } from '../emr-arena';

/** f32 values of a chunk: a view when the bytes are aligned f32 (the kernels never write inputs). */
function widen(c: RawChunk): Float32Array {
  const { bytes } = c;
  if (c.dtype === 'F32' && bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return widenToF32(bytes, c.dtype);
}

const tasksOf = (chunk: ChunkInput) => chunk.tasks.map(widen);

export class CpuEngine implements MergeEngine {
  readonly kind = 'cpu' as const;
  readonly description: string;
  private readonly wasm: WasmKernels | undefined;
  private readonly arena: boolean;

  /**
   * `wasm: false` keeps to the JavaScript kernels. `arena: true` holds a whole EMR merge in a
   * memory of its own (the CLI, whose result lives only as long as the command): its input and
   * output slots and the kept base then live as long as the result, which a page keeping several
   * results would pay for, so the studio does not ask for it.
   */
  constructor(options: { wasm?: boolean; arena?: boolean } = {}) {
    this.wasm = (options.wasm ?? true) && wasmAvailable() ? new WasmKernels() : undefined;
    this.arena = options.arena === true;
    this.description = this.wasm ? 'CPU (WebAssembly SIMD)' : 'CPU (reference engine)';
  }

  /** Inputs read straight into the WebAssembly kernels' memory (see MergeEngine.emrInputs). */
  emrInputs(slot: 0 | 1, numel: number, maxNumel: number, numTasks: number): EmrInputViews | undefined {
    return this.wasm?.inputViews(slot, numel, maxNumel, numTasks);
  }

  /** The merge in one WebAssembly memory of its own (./wasm/arena.ts), with the SIMD kernels. */
  emrArena(
    tensors: readonly ArenaTensor[],
    numTasks: number,
    maxNumel: number,
    helper?: ArenaHelper,
  ): EmrArena | undefined {
    return this.wasm && this.arena ? makeArena(tensors, numTasks, maxNumel, helper) : undefined;
  }

  async emr(chunk: ChunkInput) {
    if (this.wasm) return this.wasm.emr(chunk.base, chunk.tasks, chunk.numel);
    return k.emrChunk(widen(chunk.base), tasksOf(chunk), chunk.numel);
  }
  async emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ) {
    const values = this.wasm
      ? this.wasm.reconstruct(base, tauUni, mask, maskOffsetWords, lambda)
      : k.emrReconstruct(widen(base), tauUni, mask, maskOffsetWords, lambda);
    return narrowFromF32(values, dtype);
  }
  /** Whether EMR runs on the WebAssembly SIMD kernels. */
  get simd(): boolean {
    return this.wasm !== undefined;
  }

  /** emrReconstruct for an F32 output, written to `out` (tauUni.length values). */
  async emrReconstructF32Into(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    out: Float32Array,
  ): Promise<void> {
    if (this.wasm) this.wasm.reconstructInto(base, tauUni, mask, maskOffsetWords, lambda, out);
    else out.set(k.emrReconstruct(widen(base), tauUni, mask, maskOffsetWords, lambda));
  }

  // NaN/±∞ in any input make the merged values non-finite (a task's through the sum; the base's, in
  // Task Arithmetic, through θ₀ + λ·Σ(θ_t − θ₀) for every λ): the inputs are counted only then. The
  // base, which averaging does not use, is always counted there.
  async average(chunk: ChunkInput): Promise<k.LinearChunkOut> {
    const n = chunk.numel;
    const base = widen(chunk.base);
    const tasks = tasksOf(chunk);
    const merged = k.averageChunk(tasks, n);
    const nonFinite = k.nonFiniteCountsUnless(k.allFinite(merged), base, tasks, n);
    nonFinite[0] = k.countNonFinite(base, n);
    return { merged, nonFinite };
  }
  async taskArithmetic(chunk: ChunkInput, lambda: number): Promise<k.LinearChunkOut> {
    const base = widen(chunk.base);
    const tasks = tasksOf(chunk);
    const merged = k.taskArithmeticChunk(base, tasks, chunk.numel, lambda);
    return { merged, nonFinite: k.nonFiniteCountsUnless(k.allFinite(merged), base, tasks, chunk.numel) };
  }
  async absHistogram(chunk: ChunkInput, level: 0 | 1, prefix: Uint32Array | undefined, counts: Uint32Array) {
    k.absHistogramChunk(widen(chunk.base), tasksOf(chunk), chunk.numel, level, prefix, counts);
  }
  async ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number) {
    return k.tiesChunk(widen(chunk.base), tasksOf(chunk), chunk.numel, thresholds, lambda);
  }
  /** a·v0 + b·v1 (÷ divide) (../mergekit/slerp-mix): the GPU program's CPU twin. */
  combine2(f: Combine2, v0: Float32Array, v1: Float32Array): Promise<Float32Array> {
    return Promise.resolve(combine2(f, v0, v1));
  }

  /** mergekit `linear` (../mergekit/linear-mix): the GPU program's CPU twin. */
  linearMix(x: LinearMixInput): Promise<Float32Array> {
    return Promise.resolve(linearMix(x));
  }

  /** model_stock's blend (../mergekit/stock-blend): the GPU program's CPU twin. */
  stockBlend(x: StockBlendInput): Promise<Float32Array> {
    return Promise.resolve(stockBlend(x));
  }

  /** combine2 per row (../mergekit/slerp-mix): the GPU program's CPU twin. */
  combineRows(x: CombineRowsInput): Promise<Float32Array> {
    return Promise.resolve(combineRows(x));
  }

  /** DARE's drops, τ ⊙ Bernoulli(density) (../mergekit/sparsify): the GPU program's CPU twin. */
  randomDrop(tau: Float32Array, key: number, p: number | Float32Array): Promise<Float32Array> {
    return Promise.resolve(typeof p === 'number' ? randomDrop(tau, key, p) : probabilityDrop(tau, key, p));
  }

  /** mergekit's GTA mix (../mergekit/gta-mix): the GPU program's CPU twin, and its fallback. */
  gtaMix(x: GtaMixInput): Promise<Float32Array> {
    return Promise.resolve(gtaMix(x));
  }

  /** The per-task passes (../pertask/passes): the GPU programs' CPU twins. */
  tallMask(x: TallMaskInput): Promise<Uint32Array> {
    return Promise.resolve(tallMaskPass(x));
  }
  tSwitchBits(x: TSwitchBitsInput): Promise<{ keep: Uint32Array; sign: Uint32Array }> {
    return Promise.resolve(tSwitchBitsPass(x));
  }
  perTaskReconstruct(x: PerTaskReconstructInput): Promise<Float32Array> {
    return Promise.resolve(perTaskReconstructPass(x));
  }

  dispose(): void {}
}
