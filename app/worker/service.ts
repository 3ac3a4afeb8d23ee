// The studio's worker-side service: a thin facade over the worker's rooms — the opened files
// (./opened-files.ts), merging and the result on screen (./merging.ts), exports (./export.ts), the
// Inspect views (./inspect.ts), recent merges (./recent-keeper.ts) and inference (./inference.ts).
// It implements the page↔worker API of ./protocol.ts (StudioCalls), no more and no less; the
// product flow itself is src/flow. Plain TypeScript with no worker globals, so Node tests drive it.
import { releaseProxy } from 'comlink';
import type { EvalReport } from '../../src/inference/eval-table';
import type { LabeledSet } from '../../src/inference/evaluate';
import type { TextRows } from '../../src/inference/labeled-text';
import type { AnyMethodSpec } from '../../src/merge/methods';
import { DEFAULT_SHARD_BYTES } from '../../src/merge/sharded';
import { exportHeld } from './export';
import { InferenceHost } from './inference';
import { histograms, maskImage } from './inspect';
import { MergeHost, PROGRESS_EVERY_MS, type Held } from './merging';
import { OpenedFiles } from './opened-files';
import type { RemoteRequest } from './remote';
import type {
  AlignOutcome,
  AttachOutcome,
  EngineKind,
  EvalOutcome,
  EvalRequest,
  ExportOutcome,
  ExportTarget,
  ExportWhat,
  Histogram,
  InferenceSetup,
  InferOutcome,
  InferRequest,
  MaskImage,
  MaskImageRequest,
  MergeOutcome,
  MergeSummary,
  OpenOutcome,
  PathedFile,
  ProgressUpdate,
  RecentMerge,
  RemoteOutcome,
  RowImages,
  SampleOutcome,
  Selection,
  StudioApi,
  TextOptions,
} from './protocol';
import { RecentKeeper } from './recent-keeper';
import { mergeSummary } from '../../src/flow/summary';
import type { AnyMergeResult } from '../../src/merge/merge';
import { CancellableJob } from './cancellable';
import { canChoose, choiceTotal, chooseFor } from './choose-lambda';
import type { LambdaOutcome, LambdaProgress, LambdaRequest, ChosenResult } from './choose-protocol';
import { ChosenResults } from './chosen-results';

export type { PathedFile } from './protocol';

/** The page's callback arrives as a comlink proxy holding a MessagePort: let it go when done. */
const release = (f: unknown) => (f as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.();

export class StudioService implements StudioApi {
  private readonly files = new OpenedFiles();
  private readonly recent = new RecentKeeper();
  private readonly merging: MergeHost = new MergeHost(this.files, this.recent, () => {
    void this.inference.dropSessions();
  });
  /** Results whose λ was chosen on the labeled sets, standing in for their kept ones (./chosen-results.ts). */
  private readonly chosen = new ChosenResults();
  private readonly choosing = new CancellableJob();
  private readonly inference = new InferenceHost({
    checkpoint: (id) => this.files.checkpoint(id),
    held: () => {
      const held = this.screen();
      return held && { ...heldResult(held), others: this.others().map(heldResult) };
    },
  });

  /** The result on screen as every room reads it: a kept one, or the one chosen in its place. */
  private screen(): Held | undefined {
    const held = this.merging.held;
    this.chosen.keepOnly([...(held ? [held] : []), ...this.merging.others()].map((h) => h.summary.id));
    return this.chosen.read(held);
  }

  /** The other kept results, each as chosen when it was. */
  private others(): Held[] {
    return this.merging.others().map((h) => this.chosen.read(h));
  }

  /** A merge outcome with the ids let go as the page knows them. */
  private pageIds(outcome: MergeOutcome): MergeOutcome {
    if (!outcome.ok || !outcome.dropped) return outcome;
    return { ...outcome, dropped: outcome.dropped.map((id) => this.chosen.pageId(id)) };
  }

  // Settings

  setOrigin(origin: 'demo' | 'user', zoo?: string): void {
    this.recent.setOrigin(origin, zoo);
  }

  setBudget(bytes: number | undefined): void {
    this.merging.budgetBytes = bytes;
  }

  /** Tests: spill EMR values past this many bytes (0: always). */
  setSpillOver(bytes: number): void {
    this.merging.spillOverBytes = bytes;
  }

  setShardBytes(bytes: number | undefined): void {
    this.merging.shardBytes = bytes ?? DEFAULT_SHARD_BYTES;
  }

  // Files

  open(id: string, primary: PathedFile, companions: readonly PathedFile[]): Promise<OpenOutcome> {
    return this.files.open(id, primary, companions);
  }

  openRemote(id: string, request: RemoteRequest): Promise<RemoteOutcome> {
    return this.files.openRemote(id, request);
  }

  remoteFetched(): Record<string, number> {
    return this.files.remoteFetched();
  }

  forget(id: string): void {
    this.files.forget(id);
  }

  /**
   * ui1: "Clear all" — every file, the result on screen and every attachment go; a merge or an
   * evaluation under way stops. Recent merges stay (they are kept apart, in OPFS).
   */
  async clearAll(): Promise<void> {
    this.merging.clear();
    this.chosen.clear();
    this.choosing.cancel();
    this.inference.cancel();
    this.files.clear();
    await this.inference.clear();
  }

  /** The alignment report from headers alone, with task files of another model refused. */
  align(selection: Selection): AlignOutcome {
    const built = this.files.modelSet(selection);
    if ('message' in built) return { ok: false, message: built.message, refused: built.refused };
    const { report } = built.set;
    return {
      ok: true,
      refused: built.refused,
      report: {
        shared: report.shared.map((s) => ({ name: s.name, shape: s.shape, dtypes: s.dtypes })),
        sharedParameters: report.sharedParameters,
        leftOut: report.leftOut.map((l) => ({ ...l })),
        baseOnly: [...report.baseOnly],
      },
    };
  }

  // Merging

  async merge(
    selection: Selection,
    spec: AnyMethodSpec,
    engineKind: EngineKind,
    onProgress: (p: ProgressUpdate) => void,
  ): Promise<MergeOutcome> {
    try {
      return this.pageIds(await this.merging.merge(selection, spec, engineKind, onProgress));
    } finally {
      release(onProgress);
    }
  }

  cancel(): void {
    this.merging.cancel();
  }

  /** Restores a merge result from an EMR bundle and the base it was made from. */
  async openBundle(bundleId: string, baseId: string): Promise<MergeOutcome> {
    return this.pageIds(await this.merging.openBundle(bundleId, baseId));
  }

  chooseResult(id: number): MergeSummary | undefined {
    return this.merging.choose(this.chosen.keptId(id)) && this.screen()?.summary;
  }

  // Recent merges

  recentMerges(): Promise<{ merges: RecentMerge[]; problem?: string }> {
    return this.recent.list();
  }

  /** A recent merge's bundle, as a file to add like a dropped one. */
  recentBundle(id: string): Promise<File> {
    return this.recent.file(id);
  }

  removeRecent(id: string): Promise<void> {
    return this.recent.remove(id);
  }

  // Inspect and export, on the result on screen

  maskImage(req: MaskImageRequest): Promise<MaskImage | undefined> {
    return maskImage(this.screen(), req);
  }

  histograms(): Promise<Histogram | undefined> {
    return histograms(this.screen());
  }

  export(what: ExportWhat, target: ExportTarget): Promise<ExportOutcome> {
    return exportHeld(this.screen(), this.merging.shardBytes, this.files.folders, what, target);
  }

  // Per-task inference and evaluation (./inference.ts), on the result on screen

  inferenceSetup(): InferenceSetup | undefined {
    return this.inference.setup();
  }

  attachGraph(id: string, task: string): AttachOutcome {
    return this.inference.attachGraph(id, task);
  }

  attachLabeled(id: string, task: string): Promise<AttachOutcome> {
    return this.inference.attachLabeled(id, task);
  }

  /** A labeled set the page built (a folder of images named by class, preprocessed there). */
  attachLabeledSet(task: string, set: LabeledSet, name: string): void {
    this.inference.attachLabeledSet(task, set, name);
  }

  /** A tokenizer.json (+ tokenizer_config.json) for graphs that take text. */
  attachTokenizer(files: readonly PathedFile[], options?: TextOptions): Promise<AttachOutcome> {
    return this.inference.attachTokenizer(files, options);
  }

  /** A multi-modal set: rows naming images, and those images as the page preprocessed them. */
  attachTextImages(task: string, rows: TextRows, images: RowImages): void {
    this.inference.attachTextImages(task, rows, images);
  }

  /** A JSON Lines or CSV file of labeled texts for a task. */
  attachLabeledText(task: string, file: PathedFile, classes?: readonly string[]): Promise<AttachOutcome> {
    return this.inference.attachLabeledText(task, file, classes);
  }

  sample(task: string, index: number): SampleOutcome {
    return this.inference.sample(task, index);
  }

  infer(req: InferRequest): Promise<InferOutcome> {
    return this.inference.infer(req);
  }

  /** `onRows` (ui1) gets the table after each method: a cancelled evaluation keeps those rows. */
  async evaluate(
    req: EvalRequest,
    onProgress: (done: number, total: number) => void,
    onRows?: (partial: EvalReport) => void,
  ): Promise<EvalOutcome> {
    let lastSent = 0;
    try {
      return await this.inference.evaluate(
        req,
        (done, total) => {
          const now = performance.now();
          if (now - lastSent < PROGRESS_EVERY_MS && done < total) return;
          lastSent = now;
          void Promise.resolve(onProgress(done, total)).catch(() => {});
        },
        onRows && ((partial) => void Promise.resolve(onRows(partial)).catch(() => {})),
      );
    } finally {
      release(onProgress);
      if (onRows) release(onRows);
    }
  }

  cancelEvaluate(): void {
    this.inference.cancel();
  }

  /**
   * TALL masks' λ_t / Consensus' α chosen on the labeled sets for the kept results asked for
   * (./choose-lambda.ts); the chosen results stand in for them once every one is chosen.
   */
  async chooseLambdas(req: LambdaRequest, onProgress: (p: LambdaProgress) => void): Promise<LambdaOutcome> {
    try {
      return await this.choose(req, onProgress);
    } finally {
      release(onProgress);
    }
  }

  cancelChoose(): void {
    this.choosing.cancel();
  }

  private async choose(req: LambdaRequest, onProgress: (p: LambdaProgress) => void): Promise<LambdaOutcome> {
    const screen = this.screen();
    if (!screen) return { ok: false, cancelled: false, message: 'Merge first.' };
    const kept = [...(this.merging.held ? [this.merging.held] : []), ...this.merging.others()];
    const names = (h: Held) => h.result.set.tasks.map((t) => t.name).join('\n');
    const targets: Held[] = [];
    for (const id of req.ids) {
      // (a result chosen once is not chosen again: its α may have come out at the default)
      const h = kept.find((k) => k.summary.id === this.chosen.keptId(id));
      if (!h || this.chosen.read(h) !== h || !canChoose(h) || names(h) !== names(screen))
        return {
          ok: false,
          cancelled: false,
          message: 'That result has nothing left to choose: merge it again.',
        };
      targets.push(h);
    }
    const inputs = this.inference.choiceInputs(heldResult(screen), req.provider);
    if (typeof inputs === 'string') return { ok: false, cancelled: false, message: inputs };
    const total = choiceTotal(targets);
    let lastSent = 0;
    return this.choosing.run(async (signal) => {
      const made: { kept: Held; held: Held; chosen: ChosenResult }[] = [];
      let before = 0;
      for (const h of targets) {
        const choice = await chooseFor(h, inputs, signal, (done) => {
          const now = performance.now();
          if (now - lastSent < PROGRESS_EVERY_MS && before + done < total) return;
          lastSent = now;
          void Promise.resolve(onProgress({ done: before + done, total, id: h.summary.id })).catch(() => {});
        });
        before += choiceTotal([h]);
        const summary = await chosenSummary(h, choice.result, this.chosen.newId(), this.merging.shardBytes);
        this.files.folders.carry(h.result, choice.result);
        made.push({
          kept: h,
          held: { result: choice.result, engine: h.engine, summary },
          chosen: {
            replaces: this.chosen.pageId(h.summary.id),
            summary,
            lines: choice.lines,
            ...(choice.tallLambda ? { tallLambda: choice.tallLambda } : {}),
            ...(choice.alpha ? { alpha: choice.alpha } : {}),
          },
        });
      }
      for (const m of made) this.chosen.set(m.kept.summary.id, m.held);
      await this.inference.dropSessions();
      return { ok: true as const, chosen: made.map((m) => m.chosen) };
    }, 'Choosing λ cancelled; the kept results are as they were.');
  }
}

/** A result as inference reads it. */
const heldResult = (h: Held) => ({
  id: h.summary.id,
  result: h.result,
  engine: h.engine,
  source: h.summary.source,
});

/** The summary of a result chosen for a kept one: its own numbers, the kept one's engine, time and files. */
async function chosenSummary(
  kept: Held,
  result: AnyMergeResult,
  id: number,
  shardBytes: number,
): Promise<MergeSummary> {
  const { engine, seconds, storage } = kept.summary;
  const summary = await mergeSummary(result, {
    id,
    engine,
    seconds,
    source: 'merge',
    shardBytes,
    ...(storage.adapterBytes === undefined ? {} : { adapterBytes: storage.adapterBytes }),
  });
  return {
    ...summary,
    tasks: summary.tasks.map((s, t) => (kept.summary.tasks[t]?.folder ? { ...s, folder: true } : s)),
  };
}

/** Compile-time: the service's public methods are exactly the API's calls (none left unlisted). */
type Unlisted = Exclude<keyof StudioService, keyof StudioApi>;
const _noUnlisted: [Unlisted] extends [never] ? true : Unlisted = true;
void _noUnlisted;
