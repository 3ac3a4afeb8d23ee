// An engine that falls back: every call goes to the primary engine (the GPU) until one fails —
// a lost device, an allocation the device refuses — and from then on, that call included, to the
// fallback engine (the CPU). The chunk that failed is still in memory, so the merge goes on from
// exactly there and nothing already computed is lost; `fellBack` says when and why.
import type { MergeDType } from '../formats/dtype';
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
} from './engine';
import { perTaskReconstructPass, tallMaskPass, tSwitchBitsPass } from './pertask/passes';
import { gtaMix as gtaMixCpu, type GtaMixInput } from './mergekit/gta-mix';
import { probabilityDrop, randomDrop as randomDropCpu } from './mergekit/sparsify';
import {
  combine2 as combine2Cpu,
  combineRows as combineRowsCpu,
  type Combine2,
  type CombineRowsInput,
} from './mergekit/slerp-mix';
import { linearMix as linearMixCpu, type LinearMixInput } from './mergekit/linear-mix';
import { stockBlend as stockBlendCpu, type StockBlendInput } from './mergekit/stock-blend';

export class FallbackEngine implements MergeEngine {
  private failed: string | undefined;
  private backup: MergeEngine | undefined;

  constructor(
    private readonly primary: MergeEngine,
    /** Made when first needed (a CPU engine may start worker threads). */
    private readonly makeFallback: () => MergeEngine,
    /** Told once, when the primary fails. */
    private readonly onFallBack: (reason: string) => void = () => {},
  ) {}

  private get fallback(): MergeEngine {
    this.backup ??= this.makeFallback();
    return this.backup;
  }

  /** As the primary: the plan is made once, at the start of a merge. */
  get overlap(): boolean {
    return this.primary.overlap === true;
  }

  get kind() {
    return this.failed === undefined ? this.primary.kind : this.fallback.kind;
  }

  get description(): string {
    return this.failed === undefined
      ? this.primary.description
      : `${this.fallback.description} (after ${this.primary.description} failed: ${this.failed})`;
  }

  /** Why the primary engine was left, if it was. */
  get fellBack(): string | undefined {
    return this.failed;
  }

  private async run<T>(call: (engine: MergeEngine) => Promise<T>): Promise<T> {
    if (this.failed === undefined) {
      try {
        return await call(this.primary);
      } catch (e) {
        // Calls in flight together (an overlapping scheduler) may all fail: one notice.
        if (this.failed === undefined) {
          this.failed = e instanceof Error ? e.message || e.name : String(e);
          this.onFallBack(this.failed);
        }
      }
    }
    return call(this.fallback);
  }

  emr(chunk: ChunkInput): Promise<EmrChunkOut> {
    return this.run((e) => e.emr(chunk));
  }
  emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    offset: number,
    lambda: number,
    dtype: MergeDType,
  ) {
    return this.run((e) => e.emrReconstruct(base, tauUni, mask, offset, lambda, dtype));
  }
  average(chunk: ChunkInput): Promise<LinearChunkOut> {
    return this.run((e) => e.average(chunk));
  }
  taskArithmetic(chunk: ChunkInput, lambda: number): Promise<LinearChunkOut> {
    return this.run((e) => e.taskArithmetic(chunk, lambda));
  }
  absHistogram(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
    counts: Uint32Array,
  ): Promise<void> {
    // Engines add a chunk's counts only once the whole chunk is counted, so a retry never counts twice.
    return this.run((e) => e.absHistogram(chunk, level, prefix, counts));
  }
  gtaMix(x: GtaMixInput): Promise<Float32Array> {
    return this.run((e) => (e.gtaMix ? e.gtaMix(x) : Promise.resolve(gtaMixCpu(x))));
  }

  combine2(f: Combine2, v0: Float32Array, v1: Float32Array): Promise<Float32Array> {
    return this.run((e) => (e.combine2 ? e.combine2(f, v0, v1) : Promise.resolve(combine2Cpu(f, v0, v1))));
  }

  combineRows(x: CombineRowsInput): Promise<Float32Array> {
    return this.run((e) => (e.combineRows ? e.combineRows(x) : Promise.resolve(combineRowsCpu(x))));
  }

  linearMix(x: LinearMixInput): Promise<Float32Array> {
    return this.run((e) => (e.linearMix ? e.linearMix(x) : Promise.resolve(linearMixCpu(x))));
  }

  stockBlend(x: StockBlendInput): Promise<Float32Array> {
    return this.run((e) => (e.stockBlend ? e.stockBlend(x) : Promise.resolve(stockBlendCpu(x))));
  }

  randomDrop(tau: Float32Array, key: number, p: number | Float32Array): Promise<Float32Array> {
    return this.run((e) =>
      e.randomDrop
        ? e.randomDrop(tau, key, p)
        : Promise.resolve(typeof p === 'number' ? randomDropCpu(tau, key, p) : probabilityDrop(tau, key, p)),
    );
  }

  ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number): Promise<TiesChunkOut> {
    return this.run((e) => e.ties(chunk, thresholds, lambda));
  }

  tallMask(x: TallMaskInput): Promise<Uint32Array> {
    return this.run((e) => (e.tallMask ? e.tallMask(x) : Promise.resolve(tallMaskPass(x))));
  }
  tSwitchBits(x: TSwitchBitsInput): Promise<{ keep: Uint32Array; sign: Uint32Array }> {
    return this.run((e) => (e.tSwitchBits ? e.tSwitchBits(x) : Promise.resolve(tSwitchBitsPass(x))));
  }
  perTaskReconstruct(x: PerTaskReconstructInput): Promise<Float32Array> {
    return this.run((e) =>
      e.perTaskReconstruct ? e.perTaskReconstruct(x) : Promise.resolve(perTaskReconstructPass(x)),
    );
  }
  dispose(): void {
    this.primary.dispose();
    this.backup?.dispose();
  }
}
