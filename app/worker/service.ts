// The studio's worker-side service: it holds what is heavy (the opened checkpoints, the merge
// result with τ_uni and the masks, the engine) and answers the page with small summaries.
// Plain TypeScript with no worker globals, so Node tests can drive it directly.
import { releaseProxy } from 'comlink';
import { dtypeBytes, widenToF32, type MergeDType } from '../../src/formats/dtype';
import { openCheckpoint } from '../../src/formats/open';
import type { ByteSink } from '../../src/formats/sink';
import { blobSource } from '../../src/formats/source';
import type { Checkpoint } from '../../src/formats/tensor';
import { BUNDLE_FORMAT, bundleFileBytes, openBundle, writeBundle } from '../../src/merge/bundle';
import { taskNameProblem } from '../../src/merge/task-name';
import type { MergeEngine } from '../../src/merge/engine';
import { isOnnxTask, writeTaskOnnx, writeTaskSafetensors } from '../../src/merge/export';
import { isEmr, runMerge, type EmrResult, type MergeResult } from '../../src/merge/merge';
import type { MethodSpec } from '../../src/merge/methods';
import { buildModelSet, ModelSetError, type ModelSet } from '../../src/merge/model-set';
import { maskWords } from '../../src/merge/cpu/kernels';
import { nonFiniteSummary } from '../../src/merge/non-finite';
import { valuesBytes } from '../../src/merge/emr-values';
import { parsePeftConfig, PeftError, type PeftConfig } from '../../src/peft/lora';
import { withAdapters, type TaskSource } from '../../src/peft/set';
import { SwitchingLoraKernel, type LoraKernel } from '../../src/peft/kernel';
import { acquireGpu } from '../../src/gpu/device';
import { GpuLoraKernel } from '../../src/gpu/lora';
import { CancellableJob, errorMessage } from './cancellable';
import { createEngine } from './engine-choice';
import { InferenceHost, type RowImages } from './inference';
import type { TextRows } from '../../src/inference/labeled-text';
import type { EvalReport } from '../../src/inference/eval-table';
import { RecentMerges } from './recent';
import { addToHistogram, binEdges, logBins, maxAbs } from './histogram';
import { MaskImageBuilder, maskOnes, tasksNeeded } from './mask-image';
import type {
  AlignOutcome,
  CheckpointSummary,
  EngineKind,
  ExportOutcome,
  ExportTarget,
  ExportWhat,
  Histogram,
  MaskImage,
  MaskImageRequest,
  MergeOutcome,
  MergeSummary,
  OpenOutcome,
  ProgressUpdate,
  RefusedTask,
  Selection,
  StorageSummary,
  AttachOutcome,
  RecentMerge,
  EvalOutcome,
  EvalRequest,
  InferenceSetup,
  InferOutcome,
  InferRequest,
  TextOptions,
  SampleOutcome,
  TensorStats,
} from './protocol';
import { DEFAULT_SHARD_BYTES, shardCount, writeShardedTask } from '../../src/merge/sharded';
import { canSpill, opfsScratch, removeStaleScratch } from './scratch';
import { downloadSink, type DownloadSink } from './download-sink';
import { fileHandleSink, type AbortableSink, type BlobSink } from './sinks';
import { zipWriter } from './zip';
import { RemoteInputs, type RemoteAbout, type RemoteRequest } from './remote';

/** A file with the path it had inside a dropped folder (File.name is only the last part). */
export interface PathedFile {
  readonly path: string;
  readonly file: Blob;
}

interface Held {
  readonly result: MergeResult;
  readonly engine: MergeEngine;
  readonly summary: MergeSummary;
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Elements of each tensor read back for the |τ_t| histograms. */
const SAMPLE_PER_TENSOR = 1 << 16;
/** Elements read at a time for a mask image (a multiple of 32). */
const MASK_IMAGE_BAND = 1 << 22;
/** τ_uni elements read at a time for the histogram. */
const HISTOGRAM_PIECE = 1 << 22;

/** Progress goes to the page at most this often (each update is a message). */
const PROGRESS_EVERY_MS = 80;

export class StudioService {
  private readonly checkpoints = new Map<
    string,
    { checkpoint: Checkpoint; bytes: number; peft?: PeftConfig }
  >();
  private held: Held | undefined;
  private readonly merging = new CancellableJob();
  /** Summary ids: from the clock, so a worker started after one died never repeats the last id. */
  private merges = Date.now();
  /** Bytes the merge scheduler may hold in flight (tests shrink it to slow a merge down). */
  private budgetBytes: number | undefined;

  /** Task models past this many bytes are written as Hugging Face shards. */
  private shardBytes = DEFAULT_SHARD_BYTES;

  /**
   * EMR values (τ_uni + masks) past this many bytes go to a scratch file in the origin-private file
   * system instead of memory: a quarter of the device's memory as the browser reports it, at most
   * 1 GiB (an LLM's τ_uni is 4 bytes a parameter).
   */
  private spillOverBytes = Math.min(
    2 ** 30,
    (((globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory ?? 8) * 2 ** 30) / 4,
  );

  private readonly recent = new RecentMerges();
  /** Scratch files a closed tab left in OPFS go first (those another tab holds are locked, and stay). */
  private readonly staleScratch = removeStaleScratch().catch(() => {});
  /** The recent-merge save under way, so a listing waits for it. */
  private saving: Promise<unknown> = Promise.resolve();
  private origin: 'demo' | 'user' = 'user';
  private zoo: string | undefined;
  /** Why the last save to recent merges failed (e.g. storage full), if it did. */
  private saveProblem: string | undefined;

  /** Where the files came from (the demo zoo or the user's), recorded with recent merges. */
  setOrigin(origin: 'demo' | 'user', zoo?: string): void {
    this.origin = origin;
    this.zoo = origin === 'demo' ? zoo : undefined;
  }

  async recentMerges(): Promise<{ merges: RecentMerge[]; problem?: string }> {
    await this.saving;
    return { merges: await this.recent.list(), ...(this.saveProblem ? { problem: this.saveProblem } : {}) };
  }

  /** A recent merge's bundle, as a file to add like a dropped one. */
  recentBundle(id: string): Promise<File> {
    return this.recent.file(id);
  }

  removeRecent(id: string): Promise<void> {
    return this.recent.remove(id);
  }

  private readonly inference = new InferenceHost({
    checkpoint: (id) => this.checkpoints.get(id)?.checkpoint,
    held: () =>
      this.held && {
        id: this.held.summary.id,
        result: this.held.result,
        engine: this.held.engine,
        source: this.held.summary.source,
      },
  });

  setBudget(bytes: number | undefined): void {
    this.budgetBytes = bytes;
  }

  /** Tests: spill EMR values past this many bytes (0: always). */
  setSpillOver(bytes: number): void {
    this.spillOverBytes = bytes;
  }

  setShardBytes(bytes: number | undefined): void {
    this.shardBytes = bytes ?? DEFAULT_SHARD_BYTES;
  }

  async open(id: string, primary: PathedFile, companions: readonly PathedFile[]): Promise<OpenOutcome> {
    try {
      const source = (f: PathedFile) => blobSource(f.file, baseName(f.path));
      // A PEFT adapter: its weights, with adapter_config.json beside them (src/peft).
      const config = companions.find((f) => baseName(f.path) === 'adapter_config.json');
      const peft = config ? parsePeftConfig(await config.file.text(), config.path) : undefined;
      const others = companions.filter((f) => f !== config);
      const checkpoint = await openCheckpoint(source(primary), others.map(source));
      const bytes = [primary, ...companions].reduce((a, f) => a + f.file.size, 0);
      this.checkpoints.set(id, { checkpoint, bytes, ...(peft ? { peft } : {}) });
      return { ok: true, summary: summarize(checkpoint, bytes, peft) };
    } catch (e) {
      this.checkpoints.delete(id);
      return { ok: false, message: errorMessage(e) };
    }
  }

  forget(id: string): void {
    this.checkpoints.delete(id);
    this.remote.forget(id);
  }

  // Remote checkpoints (./remote.ts): opened from their headers, read by range when merged.
  private readonly remote = new RemoteInputs();

  async openRemote(
    id: string,
    request: RemoteRequest,
  ): Promise<(OpenOutcome & { ok: true; about: RemoteAbout }) | (OpenOutcome & { ok: false })> {
    try {
      const { checkpoint, bytes, peft, ...about } = await this.remote.open(id, request);
      this.checkpoints.set(id, { checkpoint, bytes, ...(peft ? { peft } : {}) });
      return { ok: true, summary: summarize(checkpoint, bytes, peft), about };
    } catch (e) {
      this.checkpoints.delete(id);
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** Bytes each remote checkpoint fetched so far (its headers, then merges and exports). */
  remoteFetched(): Record<string, number> {
    return this.remote.fetched();
  }

  /**
   * ui1: "Clear all" — every file, the result on screen and every attachment go; a merge or an
   * evaluation under way stops. Recent merges stay (they are kept apart, in OPFS).
   */
  async clearAll(): Promise<void> {
    this.merging.cancel();
    this.inference.cancel();
    const previous = this.held;
    this.held = undefined;
    this.checkpoints.clear();
    if (previous) {
      previous.engine.dispose();
      if (isEmr(previous.result)) {
        const values = previous.result.values;
        this.saving = this.saving.then(() => values.release()).catch(() => {});
      }
    }
    await this.inference.clear();
  }

  /** The alignment report from headers alone, with task files of another model refused. */
  align(selection: Selection): AlignOutcome {
    const built = this.modelSet(selection);
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

  private modelSet(
    selection: Selection,
    lora?: LoraKernel,
  ): { set: ModelSet; refused: RefusedTask[] } | { message: string; refused: RefusedTask[] } {
    const base = this.checkpoints.get(selection.baseId)?.checkpoint;
    if (!base)
      return { message: 'Pick a base model: the checkpoint the tasks were fine-tuned from.', refused: [] };
    const refused: RefusedTask[] = [];
    const tasks: TaskSource[] = [];
    const adapterSize = new Map<Checkpoint, number>();
    for (const t of selection.tasks) {
      const held = this.checkpoints.get(t.id);
      if (!held) continue;
      // Task names become download and zip entry names: one that could escape a folder is refused.
      const badName = taskNameProblem(t.name);
      if (badName) {
        refused.push({ id: t.id, message: `Cannot name a file: ${badName}.`, differing: [] });
        continue;
      }
      if (held.peft) {
        // An adapter names the base's modules its own way: checked by wrapping it over the base.
        try {
          withAdapters(base, [{ name: t.name, checkpoint: held.checkpoint, peft: held.peft }]);
          tasks.push({ name: t.name, checkpoint: held.checkpoint, peft: held.peft });
          adapterSize.set(held.checkpoint, held.bytes);
        } catch (e) {
          if (!(e instanceof PeftError)) throw e;
          refused.push({ id: t.id, message: `Not an adapter of this base: ${e.problem}`, differing: [] });
        }
        continue;
      }
      const why = otherModel(base, held.checkpoint);
      if (why) refused.push({ id: t.id, ...why });
      else tasks.push({ name: t.name, checkpoint: held.checkpoint });
    }
    try {
      const wrapped = withAdapters(base, tasks, lora);
      const set = buildModelSet(wrapped.base, wrapped.tasks);
      const sizes = tasks.map((t) => (t.peft ? adapterSize.get(t.checkpoint) : undefined));
      if (sizes.length && sizes.every((b) => b !== undefined))
        this.adapterTotals.set(
          set,
          sizes.reduce((x: number, b) => x + (b as number), 0),
        );
      return { set, refused };
    } catch (e) {
      if (e instanceof ModelSetError || e instanceof PeftError) return { message: e.message, refused };
      throw e;
    }
  }

  async merge(
    selection: Selection,
    spec: MethodSpec,
    engineKind: EngineKind,
    onProgress: (p: ProgressUpdate) => void,
  ): Promise<MergeOutcome> {
    try {
      return await this.runMerge(selection, spec, engineKind, onProgress);
    } finally {
      // The page's callback arrives as a comlink proxy holding a MessagePort: let it go.
      (onProgress as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.();
    }
  }

  private async runMerge(
    selection: Selection,
    spec: MethodSpec,
    engineKind: EngineKind,
    onProgress: (p: ProgressUpdate) => void,
  ): Promise<MergeOutcome> {
    const lora = new SwitchingLoraKernel();
    const built = this.modelSet(selection, lora);
    if ('message' in built) return { ok: false, cancelled: false, message: built.message };
    const engine = await createEngine(engineKind);
    // LoRA deltas on the GPU too when the merge is (same bytes); on the CPU twin again once it ends.
    if (engine.kind === 'gpu')
      await acquireGpu().then(
        (gpu) => lora.use(new GpuLoraKernel(gpu, true)),
        () => {},
      ); // else the twin
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
        // Only a finished merge replaces the result on screen; a cancelled or failed one never does.
        this.replace({
          result,
          engine,
          summary: await this.summary(result, engine.description, seconds, 'merge'),
        });
        // Recent merges keep bundles that fit in memory; a spilled (LLM-sized) one would double the disk used.
        if (isEmr(result) && result.values.location === 'memory') this.keep(result, selection.baseId);
        return { ok: true as const, summary: this.held?.summary as MergeSummary };
      },
      'Merge cancelled; the previous result is kept.',
      () => engine.dispose(),
    );
    return outcome.finally(() => lora.dispose());
  }

  cancel(): void {
    this.merging.cancel();
  }

  /** Saves a finished EMR merge to recent merges, in the background (the result shows at once). */
  private keep(result: EmrResult, baseId: string): void {
    const base = this.checkpoints.get(baseId);
    const record = { file: base?.checkpoint.files[0] ?? 'base', bytes: base?.bytes ?? 0 };
    this.saving = this.saving
      .then(() => this.recent.save(result, record, this.origin, this.zoo))
      .then(
        () => (this.saveProblem = undefined),
        (e: unknown) => (this.saveProblem = `The merge was not kept in recent merges: ${errorMessage(e)}`),
      );
  }

  /** Restores a merge result from an EMR bundle and the base it was made from. */
  async openBundle(bundleId: string, baseId: string): Promise<MergeOutcome> {
    const bundle = this.checkpoints.get(bundleId)?.checkpoint;
    const base = this.checkpoints.get(baseId)?.checkpoint;
    if (!bundle || !base)
      return { ok: false, cancelled: false, message: 'Add the bundle and its base model.' };
    try {
      const started = performance.now();
      const result = await openBundle(bundle, base);
      const engine = await createEngine('cpu');
      const seconds = (performance.now() - started) / 1000;
      this.replace({
        result,
        engine,
        summary: await this.summary(result, engine.description, seconds, 'bundle'),
      });
      return { ok: true, summary: this.held?.summary as MergeSummary };
    } catch (e) {
      return { ok: false, cancelled: false, message: errorMessage(e) };
    }
  }

  private replace(next: Held): void {
    const previous = this.held;
    if (previous && previous.engine !== next.engine) previous.engine.dispose();
    // A spilled result's scratch file goes once nothing reads it (recent merges may be saving it).
    if (previous && isEmr(previous.result) && previous.result !== next.result) {
      const values = previous.result.values;
      this.saving = this.saving.then(() => values.release()).catch(() => {});
    }
    this.held = next;
    void this.inference.dropSessions();
  }

  // Per-task inference and evaluation (./inference.ts), on the result on screen.

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
  attachLabeledSet(
    task: string,
    set: { inputs: Float32Array; sampleShape: readonly number[]; labels: Int32Array },
    name: string,
  ): void {
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
    const release = (f: unknown) => (f as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.();
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

  private async summary(
    result: MergeResult,
    engine: string,
    seconds: number,
    source: 'merge' | 'bundle',
  ): Promise<MergeSummary> {
    const { set } = result;
    const formats = set.tasks.map((_, t) =>
      isOnnxTask(result, t) ? ('onnx' as const) : ('safetensors' as const),
    );
    const emr = isEmr(result) ? result : undefined;
    const stats = new Map((emr?.tensors ?? []).map((s) => [s.name, s] as const));
    const onesOf = async (s: ModelSet['shared'][number]): Promise<readonly number[]> => {
      const st = stats.get(s.name);
      if (st) return st.maskOnes;
      if (!emr) return [];
      // From a bundle: counted from the masks, a task at a time (they may be on disk).
      const words = maskWords(s.numel);
      const ones: number[] = [];
      for (let t = 0; t < set.tasks.length; t++)
        ones.push(maskOnes(await emr.values.mask(s.name, t, 0, words), s.numel, 1)[0] as number);
      return ones;
    };
    const tensors: TensorStats[] = [];
    for (const s of set.shared) {
      const st = stats.get(s.name);
      const ones = await onesOf(s);
      // A LoRA task's tensor its adapter leaves alone is the base's own entry (src/peft/lora.ts).
      const untouched = s.tasks.map((e) => e === s.base);
      tensors.push({
        name: s.name,
        shape: s.shape,
        numel: s.numel,
        conflictRate: st ? st.conflicts / Math.max(1, s.numel) : Number.NaN,
        density: ones.map((n) => n / Math.max(1, s.numel)),
        ...(untouched.some(Boolean) ? { untouched } : {}),
      });
    }
    const shared = set.report.sharedParameters;
    const tasks = set.tasks.map((task, t) => {
      const e = emr?.tasks[t];
      const density =
        e && !Number.isNaN(e.density)
          ? e.density
          : emr
            ? tensors.reduce((a, s) => a + (s.density[t] ?? 0) * s.numel, 0) / Math.max(1, shared)
            : Number.NaN;
      return {
        name: task.name,
        format: formats[t] ?? 'safetensors',
        ...(task.checkpoint.format === 'pytorch' ? { fromPytorch: true } : {}),
        lambda: e?.lambda ?? Number.NaN,
        numerator: e?.numerator ?? Number.NaN,
        denominator: e?.denominator ?? Number.NaN,
        lambdaDefaulted: e?.lambdaDefaulted ?? false,
        density,
        files: formats[t] === 'onnx' ? 1 : shardCount(result, t, this.shardBytes),
        bytes: [...task.checkpoint.tensors.values()].reduce((a, e) => a + e.byteLength, 0),
      };
    });
    return {
      id: ++this.merges,
      spec: result.spec,
      engine,
      seconds,
      bytesRead: result.bytesRead,
      source,
      tasks,
      tensors,
      storage: { ...storageOf(set, emr), ...this.adapterBytes(set) },
      ...nonFiniteOf(result),
      ...(emr
        ? { values: { location: emr.values.location, bytes: valuesBytes(set.shared, set.tasks.length) } }
        : {}),
    };
  }

  /** The adapters' own bytes, for model sets whose tasks are all PEFT adapters. */
  private readonly adapterTotals = new WeakMap<ModelSet, number>();

  private adapterBytes(set: ModelSet): { adapterBytes?: number } {
    const total = this.adapterTotals.get(set);
    return total === undefined ? {} : { adapterBytes: total };
  }

  async maskImage(req: MaskImageRequest): Promise<MaskImage | undefined> {
    const result = this.held?.result;
    if (!result || !isEmr(result)) return undefined;
    const shared = result.set.shared.find((s) => s.name === req.tensor);
    if (!shared) return undefined;
    // Band by band (a multiple of 32 elements): only the grid is kept whole, whatever the tensor's size.
    const numTasks = result.set.tasks.length;
    const builder = new MaskImageBuilder(
      shared.shape,
      numTasks,
      req.mode,
      req.task,
      req.maxCells,
      req.otherTask,
    );
    const needed = tasksNeeded(req.mode, req.task, numTasks, req.otherTask);
    for (let first = 0; first < shared.numel; first += MASK_IMAGE_BAND) {
      const count = Math.min(MASK_IMAGE_BAND, shared.numel - first);
      const masks = new Map<number, Uint32Array>();
      for (const t of needed)
        masks.set(t, await result.values.mask(shared.name, t, first / 32, maskWords(count)));
      const tauUni =
        req.mode === 'sign' ? await result.values.tau(shared.name, first, first + count) : undefined;
      builder.add({ first, count, masks, ...(tauUni ? { tauUni } : {}) });
    }
    return builder.finish();
  }

  /**
   * |τ_uni| and each task's |τ_t| on log bins. τ_uni is in memory and counted whole; τ_t needs
   * the files again, so each tensor contributes at most its first SAMPLE_PER_TENSOR elements —
   * enough for the distribution's shape without re-reading N full models.
   */
  async histograms(): Promise<Histogram | undefined> {
    const result = this.held?.result;
    if (!result || !isEmr(result)) return undefined;
    const { set } = result;
    // τ_uni a piece at a time, twice (the range first): it may be spilled to disk or in a bundle.
    const pieces = async function* () {
      for (const s of set.shared)
        for (let first = 0; first < s.numel; first += HISTOGRAM_PIECE)
          yield await result.values.tau(s.name, first, Math.min(s.numel, first + HISTOGRAM_PIECE));
    };
    let max = 0;
    for await (const tau of pieces()) max = maxAbs(tau, max);
    const bins = logBins(max);
    const tauUni: number[] = new Array<number>(bins.count).fill(0);
    let zerosUni = 0;
    for await (const tau of pieces()) zerosUni += addToHistogram(tau, bins, tauUni);
    // From a bundle the tasks' shared weights are not at hand: only τ_uni is shown then.
    const tasks: number[][] = [];
    const zeros: number[] = [];
    let sampled = false;
    if (this.held?.summary.source === 'merge') {
      for (let t = 0; t < set.tasks.length; t++) {
        const counts = new Array<number>(bins.count).fill(0);
        let z = 0;
        for (const s of set.shared) {
          const n = Math.min(s.numel, SAMPLE_PER_TENSOR);
          sampled ||= n < s.numel;
          const entry = s.tasks[t] as (typeof s.tasks)[number];
          const read = (e: typeof entry) => e.data.read(0, n * dtypeBytes(e.dtype));
          const base = widenToF32(await read(s.base), s.base.dtype as MergeDType);
          const task = widenToF32(await read(entry), entry.dtype);
          for (let i = 0; i < n; i++) task[i] = (task[i] as number) - (base[i] as number);
          z += addToHistogram(task, bins, counts);
        }
        tasks.push(counts);
        zeros.push(z);
      }
    }
    return { log10Edges: binEdges(bins), tauUni, tasks, zeros: { tauUni: zerosUni, tasks: zeros }, sampled };
  }

  async export(what: ExportWhat, target: ExportTarget): Promise<ExportOutcome> {
    const held = this.held;
    if (!held) return { ok: false, message: 'Nothing to export yet: merge first.' };
    const name = what.kind === 'task' ? (held.result.set.tasks[what.task]?.name ?? 'task') : what.kind;
    const opened: AbortableSink[] = [];
    let bytes = 0;
    // Every byte goes through here, counted; file sinks are remembered so a failure can drop them.
    const counted = (sink: ByteSink): ByteSink => ({
      name: sink.name,
      write: (b) => ((bytes += b.byteLength), sink.write(b)),
      close: () => sink.close(),
    });
    try {
      const writer = new ExportWriter(held, this.shardBytes);
      if (target.kind === 'directory') {
        if (what.kind !== 'task') throw new Error('only a sharded task model is written to a folder');
        await writer.task(what.task, async (file) => {
          const sink = await fileHandleSink(await target.handle.getFileHandle(file, { create: true }));
          opened.push(sink);
          return counted(sink);
        });
        return { ok: true, bytes };
      }
      let out: AbortableSink | BlobSink | DownloadSink;
      if (target.kind === 'handle') {
        out = await fileHandleSink(target.handle);
        opened.push(out);
      } else {
        out = await downloadSink(name); // staged in OPFS where it can be
        if ('abort' in out) opened.push(out);
      }
      const sink = counted(out);
      if (what.kind === 'zip') await writer.zip(sink);
      else if (what.kind === 'bundle') await writer.bundle(sink);
      else if (writer.isSharded(what.task)) {
        const zip = zipWriter(sink); // several files into one download: a zip of the shards
        await writer.task(what.task, async (file) => zip.file(file));
        await zip.close();
      } else await writer.task(what.task, async () => sink);
      return 'blob' in out ? { ok: true, bytes, blob: await out.blob() } : { ok: true, bytes };
    } catch (e) {
      await Promise.all(opened.map((s) => s.abort().catch(() => {})));
      return { ok: false, message: `${name}: ${errorMessage(e)}` };
    }
  }
}

/** Writes the exports of one held result: the bundle, a task (sharded when large), the zip. */
class ExportWriter {
  constructor(
    private readonly held: Held,
    private readonly shardBytes: number,
  ) {}

  isSharded(t: number): boolean {
    return !isOnnxTask(this.held.result, t) && shardCount(this.held.result, t, this.shardBytes) > 1;
  }

  async bundle(sink: ByteSink): Promise<void> {
    const { result } = this.held;
    if (!isEmr(result)) throw new Error('the bundle holds an EMR merge; this result is a baseline');
    await writeBundle(result as EmrResult, sink);
  }

  /** A task's model through sinks by file name: one file, or the shards and their index. */
  async task(t: number, sinkFor: (file: string) => Promise<ByteSink>): Promise<void> {
    const { result, engine } = this.held;
    const stem = result.set.tasks[t]?.name ?? `task${t}`;
    if (isOnnxTask(result, t)) await writeTaskOnnx(result, t, engine, await sinkFor(`${stem}.onnx`));
    else if (this.isSharded(t)) await writeShardedTask(result, t, engine, stem, this.shardBytes, sinkFor);
    else await writeTaskSafetensors(result, t, engine, await sinkFor(`${stem}.safetensors`));
  }

  /** The bundle and every task, one zip; a sharded task's files go in a folder named after it. */
  async zip(sink: ByteSink): Promise<void> {
    const zip = zipWriter(sink);
    const { result } = this.held;
    if (isEmr(result)) await this.bundle(zip.file('emr-bundle.safetensors'));
    for (let t = 0; t < result.set.tasks.length; t++) {
      const folder = this.isSharded(t) ? `${result.set.tasks[t]?.name ?? t}/` : '';
      await this.task(t, async (file) => zip.file(folder + file));
    }
    await zip.close();
  }
}

function summarize(checkpoint: Checkpoint, bytes: number, peft?: PeftConfig): CheckpointSummary {
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  for (const e of checkpoint.tensors.values()) {
    dtypes[e.dtype] = (dtypes[e.dtype] ?? 0) + 1;
    parameters += e.shape.reduce((a, d) => a * d, 1);
  }
  return {
    format: checkpoint.format,
    files: [...checkpoint.files],
    tensorCount: checkpoint.tensors.size,
    parameters,
    dtypes,
    bytes,
    isBundle: checkpoint.metadata.get('format') === BUNDLE_FORMAT,
    ...(peft ? { peft: { type: peft.peftType, r: peft.r, alpha: peft.loraAlpha } } : {}),
  };
}

/**
 * A task file of another model: it shares no tensor with the base, or more of the tensors both
 * have differ in shape than agree (a head with other classes is one differing tensor, not most).
 */
export function otherModel(
  base: Checkpoint,
  task: Checkpoint,
): { message: string; differing: string[] } | undefined {
  let same = 0;
  const differing: string[] = [];
  for (const [name, e] of task.tensors) {
    const b = base.tensors.get(name);
    if (!b) continue;
    if (b.shape.join() === e.shape.join()) same++;
    else differing.push(`${name}: [${e.shape.join(', ')}] here, [${b.shape.join(', ')}] in the base`);
  }
  if (same === 0 && differing.length === 0) {
    const examples = [...task.tensors.keys()].slice(0, 3);
    return {
      message: `Not a fine-tune of this base: none of its ${task.tensors.size} tensors is in the base (e.g. ${examples.join(', ')}).`,
      differing: examples.map((n) => `${n}: not in the base`),
    };
  }
  if (differing.length > same) {
    return {
      message: `Not a fine-tune of this base: ${differing.length} tensors differ in shape, only ${same} match.`,
      differing,
    };
  }
  return undefined;
}

/** NaN/±∞ counts for the summary, when the merge read any. */
function nonFiniteOf(result: MergeResult): Pick<MergeSummary, 'nonFinite'> {
  const { set } = result;
  const nonFinite = nonFiniteSummary(
    result.nonFinite,
    set.tasks.map((t) => t.name),
    set.shared.length,
  );
  return nonFinite ? { nonFinite } : {};
}

function storageOf(set: ModelSet, emr: EmrResult | undefined): StorageSummary {
  const sum = (c: Checkpoint) => [...c.tensors.values()].reduce((a, e) => a + e.byteLength, 0);
  return {
    taskModelsBytes: set.tasks.reduce((a, t) => a + sum(t.checkpoint), 0),
    baseBytes: sum(set.base),
    // The bundle file's size on disk (header and manifest included), as the CLI reports it; none for a baseline.
    bundleBytes: emr ? bundleFileBytes(emr) : 0,
  };
}
