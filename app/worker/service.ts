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
  ChooseOutcome,
  KeptPlaces,
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
import { LambdaChooser } from './choose-lambda';
import type { LambdaOutcome, LambdaProgress, LambdaRequest } from './choose-protocol';
import type { ChosenResults } from './chosen-results';

export type { PathedFile } from './protocol';

/** The page's callback arrives as a comlink proxy holding a MessagePort: let it go when done. */
const release = (f: unknown) => (f as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.();

export class StudioService implements StudioApi {
  private readonly files = new OpenedFiles();
  private readonly recent = new RecentKeeper();
  private readonly merging: MergeHost = new MergeHost(this.files, this.recent, () => {
    void this.inference.dropSessions();
  });
  /** λ chosen on the labeled sets; the chosen results stand in for their kept ones (./choose-lambda.ts). */
  private readonly chooser: LambdaChooser = new LambdaChooser({
    kept: () => [...(this.merging.held ? [this.merging.held] : []), ...this.merging.others()],
    screen: () => this.screen(),
    inputs: (screen, provider) => this.inference.choiceInputs(heldResult(screen), provider),
    shardBytes: () => this.merging.shardBytes,
    folders: this.files.folders,
    dropSessions: () => this.inference.dropSessions(),
  });
  private get chosen(): ChosenResults {
    return this.chooser.chosen;
  }
  private readonly inference = new InferenceHost({
    checkpoint: (id) => this.files.checkpoint(id),
    held: () => {
      const held = this.screen();
      return held && { ...heldResult(held), others: this.others().map(heldResult) };
    },
  });

  /** The result on screen as every room reads it: a kept one, or the one chosen in its place. */
  private screen(): Held | undefined {
    return this.chosen.read(this.merging.held);
  }

  /** The other kept results, each as chosen when it was. */
  private others(): Held[] {
    return this.merging.others().map((h) => this.chosen.read(h));
  }

  /**
   * Where the kept results are, by the ids the page knows them by; the choices of those let go are
   * forgotten (a spilled one keeps its choice: it stands in again once read back).
   */
  private pagePlaces<O extends KeptPlaces>(outcome: O): O {
    const page = (ids: readonly number[] | undefined) => ids?.map((id) => this.chosen.pageId(id));
    const dropped = page(outcome.dropped);
    const onDisk = page(outcome.onDisk);
    this.chosen.forget(outcome.dropped ?? []);
    return { ...outcome, ...(dropped ? { dropped } : {}), ...(onDisk ? { onDisk } : {}) };
  }

  /** A merge outcome with the kept results' places as the page knows them. */
  private pageIds(outcome: MergeOutcome): MergeOutcome {
    return outcome.ok ? this.pagePlaces(outcome) : outcome;
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

  /** Tests: scratch room for kept results past the memory budget (undefined: the browser's quota). */
  setKeptScratchRoom(bytes: number | undefined): void {
    this.merging.keptScratchRoom = bytes;
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
    this.chooser.cancel();
    this.inference.cancel();
    this.files.clear();
    await this.inference.clear();
  }

  /** The alignment report from headers alone, with task files of another model refused. */
  align(selection: Selection): AlignOutcome {
    // From one task on: SLERP merges the base and one model (the Merge step says what each method needs).
    const built = this.files.modelSet(selection, undefined, { minTasks: 1 });
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

  async chooseResult(id: number): Promise<ChooseOutcome> {
    const outcome = this.pagePlaces(await this.merging.choose(this.chosen.keptId(id)));
    return { ...outcome, summary: outcome.summary && this.screen()?.summary };
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
      return await this.chooser.run(req, onProgress);
    } finally {
      release(onProgress);
    }
  }

  cancelChoose(): void {
    this.chooser.cancel();
  }
}

/** A result as inference reads it. */
const heldResult = (h: Held) => ({
  id: h.summary.id,
  result: h.result,
  engine: h.engine,
  source: h.summary.source,
});

/** Compile-time: the service's public methods are exactly the API's calls (none left unlisted). */
type Unlisted = Exclude<keyof StudioService, keyof StudioApi>;
const _noUnlisted: [Unlisted] extends [never] ? true : Unlisted = true;
void _noUnlisted;
