// Merging in the studio worker: the merge results kept (one per method, ./kept-results.ts; past the
// memory budget spilled to scratch storage, ./kept-spill.ts, and read back when switched to) and the
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
import type {
  ChooseOutcome,
  EngineKind,
  KeptPlaces,
  MergeOutcome,
  MergeSummary,
  ProgressUpdate,
  Selection,
} from './protocol';
import { keepWithin, overBudget } from './kept-results';
import { writeKept, type KeptArtefact } from './kept-spill';
import type { RecentKeeper } from './recent-keeper';
import { canSpill, opfsScratch, removeStaleScratch } from './scratch';

export interface Held {
  readonly result: AnyMergeResult;
  readonly engine: MergeEngine;
  readonly summary: MergeSummary;
}

/** A kept result: in memory, or on disk (no `result`) with the artefact it is read back from. */
interface Kept {
  readonly summary: MergeSummary;
  readonly engine: MergeEngine;
  result: AnyMergeResult | undefined;
  onDisk: boolean;
  /** Written on its first spill, kept until the result goes (a second spill only lets go of memory). */
  artefact?: KeptArtefact;
  /** Binds a result read back to the model folders the original was bound to (./model-folders.ts). */
  rebind?: (to: AnyMergeResult) => void;
}

const isLoaded = (k: Kept | undefined): k is Kept & Held => k?.result !== undefined;

/** Progress goes to the page at most this often (each update is a message). */
export const PROGRESS_EVERY_MS = 80;

export class MergeHost {
  /** The kept result on screen: the one Inspect, Try, Evaluate and Export read (always in memory). */
  private shown: Kept | undefined;
  /** Every result kept, one per method, oldest first (the one on screen among them). */
  private kept: Kept[] = [];
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
  /** Tests: the scratch room kept results past the budget may take (undefined: the browser's quota). */
  keptScratchRoom: number | undefined;
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
        const places = await this.replace({ result, engine, summary });
        // Recent merges keep bundles that fit in memory; a spilled (LLM-sized) one would double the disk used.
        if ((isEmr(result) && result.values.location === 'memory') || isPerTaskResult(result))
          this.recent.keep(result, this.files.record(selection.baseId));
        return { ok: true as const, summary, ...places };
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
      return { ok: true, summary, ...(await this.replace({ result, engine, summary })) };
    } catch (e) {
      return { ok: false, cancelled: false, message: errorMessage(e) };
    }
  }

  /** The result on screen, in memory. */
  get held(): Held | undefined {
    return isLoaded(this.shown) ? this.shown : undefined;
  }

  /** Clear all: a merge under way stops and every result goes. */
  clear(): void {
    this.merging.cancel();
    const all = this.kept;
    this.kept = [];
    this.shown = undefined;
    for (const h of all) this.release(h, undefined);
  }

  /** The results kept in memory besides the one on screen, oldest first (Try and Evaluate's columns). */
  others(): readonly Held[] {
    return this.kept.filter((h): h is Kept & Held => h !== this.shown && isLoaded(h));
  }

  /**
   * Puts a kept result on screen (the switcher), read back from disk if it was spilled; others are
   * spilled so that it fits the budget, never it. No summary when it is no longer kept.
   */
  async choose(id: number): Promise<ChooseOutcome> {
    const k = this.kept.find((e) => e.summary.id === id);
    if (!k) return { summary: undefined };
    if (!isLoaded(k)) {
      try {
        if (!k.artefact) throw new Error('it has no artefact on disk');
        const result = await k.artefact.read();
        // Clear all (or a merge) may have let it go while it was read.
        if (!this.kept.includes(k)) return { summary: undefined };
        k.result = result;
        k.rebind?.(result);
        k.onDisk = false;
      } catch (e) {
        this.kept = this.kept.filter((x) => x !== k);
        this.release(k, undefined);
        return {
          summary: undefined,
          dropped: [id],
          spillProblem: `it could not be read back: ${errorMessage(e)}`,
        };
      }
    }
    if (k !== this.shown) {
      this.shown = k;
      this.onReplaced();
    }
    const places = await this.moveOut(overBudget(this.kept, k, this.spillOverBytes), k);
    return { summary: k.summary, ...places };
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
   * are spilled (or, without scratch storage, let go) while the results kept pass the memory budget
   * (spillOverBytes). Returns where the kept results are now.
   */
  private async replace(held: Held): Promise<KeptPlaces> {
    const next: Kept = { ...held, onDisk: false };
    const { keep, drop, spill } = keepWithin(this.kept, next, this.spillOverBytes, await this.canSpill());
    this.kept = keep;
    this.shown = next;
    for (const h of drop) this.release(h, next);
    this.onReplaced();
    const places = await this.moveOut(spill, next);
    const dropped = [...drop.map((h) => h.summary.id), ...(places.dropped ?? [])];
    return { ...places, ...(dropped.length ? { dropped } : {}) };
  }

  private async canSpill(): Promise<boolean> {
    await this.staleScratch;
    return canSpill();
  }

  /**
   * Spills `out` (kept results in memory, never `shown`): each artefact is written once, then the
   * result lets go of its memory. One that cannot be written (no scratch storage, or full) is let go
   * as before spilling existed, and the outcome says why.
   */
  private async moveOut(out: readonly Kept[], shown: Kept): Promise<KeptPlaces> {
    const dropped: number[] = [];
    let spillProblem: string | undefined;
    const spillable = out.length > 0 && (await this.canSpill());
    for (const k of out) {
      if (k === shown || !k.result) continue;
      try {
        if (!spillable) throw new Error('this browser has no origin-private file system to keep it in');
        k.artefact ??= await writeKept(k.result, (b, use) => opfsScratch(b, use, this.keptScratchRoom));
        // Let go while it was written (Clear all): its file goes too, not left locked.
        if (!this.kept.includes(k)) {
          void k.artefact.remove();
          continue;
        }
        k.rebind ??= this.files.folders.carry(k.result);
        k.result = undefined;
        k.onDisk = true;
      } catch (e) {
        spillProblem ??= errorMessage(e);
        dropped.push(k.summary.id);
        this.kept = this.kept.filter((x) => x !== k);
        this.release(k, shown);
      }
    }
    const onDisk = this.kept.filter((k) => k.onDisk).map((k) => k.summary.id);
    return {
      onDisk,
      ...(dropped.length ? { dropped } : {}),
      ...(spillProblem ? { spillProblem } : {}),
    };
  }

  /**
   * Lets a result go: its engine, its spilled artefact, and an in-memory EMR result's scratch file
   * once nothing reads it.
   */
  private release(previous: Kept, next: Kept | undefined): void {
    if (previous.engine !== next?.engine) previous.engine.dispose();
    void previous.artefact?.remove();
    const result = previous.result;
    if (result && isEmr(result) && result !== next?.result) {
      const values = result.values;
      // (recent merges may be saving it)
      this.recent.afterSaves(() => values.release());
    }
  }
}
