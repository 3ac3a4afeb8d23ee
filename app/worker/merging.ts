// Merging in the studio worker: the merge results kept (one per method, ./kept-results.ts) and the
// one on screen (with its engine and summary), a merge run on the chosen engine with LoRA on the
// same device (src/flow/engine.ts), a bundle restored, and the settings a merge runs under. Only a
// finished merge changes the results.
import type { MergeEngine } from '../../src/merge/engine';
import { openBundle } from '../../src/merge/bundle';
import { isPerTaskArtefact, openPerTaskArtefact } from '../../src/merge/pertask/artefact';
import { isPerTaskResult } from '../../src/merge/pertask/result';
import { isEmr, runMerge, type AnyMergeResult } from '../../src/merge/merge';
import { minTasksFor, type AnyMethodSpec } from '../../src/merge/methods';
import { DEFAULT_SHARD_BYTES } from '../../src/merge/sharded';
import { SwitchingLoraKernel } from '../../src/peft/kernel';
import { acquireGpu } from '../../src/gpu/device';
import { GpuLoraKernel } from '../../src/gpu/lora';
import { loraOnEngine } from '../../src/flow/engine';
import { mergeSummary } from '../../src/flow/summary';
import { CancellableJob, errorMessage } from './cancellable';
import { createEngine } from './engine-choice';
import type { OpenedFiles } from './opened-files';
import type { EngineKind, MergeOutcome, MergeSummary, ProgressUpdate, Selection } from './protocol';
import { keepWithin } from './kept-results';
import type { RecentKeeper } from './recent-keeper';
import { canSpill, opfsScratch, removeStaleScratch } from './scratch';

export interface Held {
  readonly result: AnyMergeResult;
  readonly engine: MergeEngine;
  readonly summary: MergeSummary;
}

/** Progress goes to the page at most this often (each update is a message). */
export const PROGRESS_EVERY_MS = 80;

export class MergeHost {
  /** The result on screen: the one Inspect, Try, Evaluate and Export read. */
  held: Held | undefined;
  /** Every result kept, one per method, oldest first (the one on screen among them). */
  private kept: Held[] = [];
  private readonly merging = new CancellableJob();
  /** Summary ids: from the clock, so a worker started after one died never repeats the last id. */
  private merges = Date.now();
  /** Bytes the merge scheduler may hold in flight (tests shrink it to slow a merge down). */
  budgetBytes: number | undefined;
  /** Task models past this many bytes are written as Hugging Face shards. */
  shardBytes = DEFAULT_SHARD_BYTES;
  /**
   * EMR values (τ_uni + masks) past this many bytes go to a scratch file in the origin-private file
   * system instead of memory: a quarter of the device's memory as the browser reports it, at most
   * 1 GiB (an LLM's τ_uni is 4 bytes a parameter).
   */
  spillOverBytes = Math.min(
    2 ** 30,
    (((globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory ?? 8) * 2 ** 30) / 4,
  );
  /** Scratch files a closed tab left in OPFS go first (those another tab holds are locked, and stay). */
  private readonly staleScratch = removeStaleScratch().catch(() => {});

  constructor(
    private readonly files: OpenedFiles,
    private readonly recent: RecentKeeper,
    /** Told when the result on screen changes (inference drops its sessions). */
    private readonly onReplaced: () => void,
  ) {}

  async merge(
    selection: Selection,
    spec: AnyMethodSpec,
    engineKind: EngineKind,
    onProgress: (p: ProgressUpdate) => void,
  ): Promise<MergeOutcome> {
    const lora = new SwitchingLoraKernel();
    const built = this.files.modelSet(selection, lora, { minTasks: minTasksFor(spec) });
    if ('message' in built) return { ok: false, cancelled: false, message: built.message };
    const engine = await createEngine(engineKind);
    // LoRA deltas on the GPU too when the merge is (same bytes); on the CPU twin again once it ends.
    await loraOnEngine(engine, lora, async () => new GpuLoraKernel(await acquireGpu(), true));
    const started = performance.now();
    let lastSent = 0;
    const outcome = this.merging.run(
      async (signal) => {
        const result = await runMerge(built.set, spec, engine, {
          signal,
          ...(this.budgetBytes ? { budgetBytes: this.budgetBytes } : {}),
          ...((await this.staleScratch, await canSpill())
            ? { spill: { overBytes: this.spillOverBytes, open: opfsScratch } }
            : {}),
          onProgress: (p) => {
            const now = performance.now();
            if (now - lastSent < PROGRESS_EVERY_MS && p.bytesDone < p.bytesTotal) return;
            lastSent = now;
            // Through comlink this is a message to the page; a page that went away must not throw here.
            void Promise.resolve(onProgress({ ...p, elapsed: (now - started) / 1000 })).catch(() => {});
          },
        });
        const seconds = (performance.now() - started) / 1000;
        this.files.folders.bind(result, selection);
        const summary = await this.summary(result, engine.description, seconds, 'merge', built.adapterBytes);
        const dropped = this.replace({ result, engine, summary });
        // Recent merges keep bundles that fit in memory; a spilled (LLM-sized) one would double the disk used.
        if ((isEmr(result) && result.values.location === 'memory') || isPerTaskResult(result))
          this.recent.keep(result, this.files.record(selection.baseId));
        return { ok: true as const, summary, ...(dropped.length ? { dropped } : {}) };
      },
      'Merge cancelled; the previous result is kept.',
      () => engine.dispose(),
    );
    return outcome.finally(() => lora.dispose());
  }

  cancel(): void {
    this.merging.cancel();
  }

  /** Restores a merge result from an EMR bundle (or a per-task artefact) and the base it was made from. */
  async openBundle(bundleId: string, baseId: string): Promise<MergeOutcome> {
    const bundle = this.files.checkpoint(bundleId);
    const base = this.files.checkpoint(baseId);
    if (!bundle || !base)
      return { ok: false, cancelled: false, message: 'Add the bundle and its base model.' };
    try {
      const started = performance.now();
      // EMR's bundle, or a per-task method's artefact (docs/bundle-format.md)
      const result = isPerTaskArtefact(bundle)
        ? await openPerTaskArtefact(bundle, base)
        : await openBundle(bundle, base);
      const engine = await createEngine('cpu');
      const seconds = (performance.now() - started) / 1000;
      const summary = await this.summary(result, engine.description, seconds, 'bundle');
      const dropped = this.replace({ result, engine, summary });
      return { ok: true, summary, ...(dropped.length ? { dropped } : {}) };
    } catch (e) {
      return { ok: false, cancelled: false, message: errorMessage(e) };
    }
  }

  /** Clear all: a merge under way stops and every result goes. */
  clear(): void {
    this.merging.cancel();
    const all = this.kept;
    this.kept = [];
    this.held = undefined;
    for (const h of all) this.release(h, undefined);
  }

  /** The results kept besides the one on screen, oldest first. */
  others(): readonly Held[] {
    return this.kept.filter((h) => h !== this.held);
  }

  /** Puts a kept result on screen (the switcher); undefined when it is no longer kept. */
  choose(id: number): MergeSummary | undefined {
    const h = this.kept.find((k) => k.summary.id === id);
    if (!h) return undefined;
    if (h !== this.held) {
      this.held = h;
      this.onReplaced();
    }
    return h.summary;
  }

  private async summary(
    result: AnyMergeResult,
    engine: string,
    seconds: number,
    source: 'merge' | 'bundle',
    adapterBytes?: number,
  ): Promise<MergeSummary> {
    const summary = await mergeSummary(result, {
      id: ++this.merges,
      engine,
      seconds,
      source,
      shardBytes: this.shardBytes,
      ...(adapterBytes === undefined ? {} : { adapterBytes }),
    });
    // A task that came in as a Hugging Face model folder is exported as one (./model-folders.ts).
    const folders = this.files.folders;
    return {
      ...summary,
      tasks: summary.tasks.map((s, t) => (folders.isFolder(result, t) ? { ...s, folder: true } : s)),
    };
  }

  /**
   * Keeps `next` and puts it on screen: it replaces the result of the same method, and the oldest
   * go while the results kept pass the memory budget (spillOverBytes). Returns the summary ids let go.
   */
  private replace(next: Held): number[] {
    const { keep, drop } = keepWithin(this.kept, next, this.spillOverBytes);
    this.kept = keep;
    this.held = next;
    for (const h of drop) this.release(h, next);
    this.onReplaced();
    return drop.map((h) => h.summary.id);
  }

  /** Lets a result go: its engine, and a spilled result's scratch file once nothing reads it. */
  private release(previous: Held, next: Held | undefined): void {
    if (previous.engine !== next?.engine) previous.engine.dispose();
    if (isEmr(previous.result) && previous.result !== next?.result) {
      const values = previous.result.values;
      // (recent merges may be saving it)
      this.recent.afterSaves(() => values.release());
    }
  }
}
