// Per-task inference in the studio worker: which ONNX graph runs each task, the labeled sets, the
// task models under every method (the held merge, plus the other methods merged on demand with
// their default parameters), a small cache of onnxruntime sessions, and the evaluation table.
// Plain TypeScript (no worker globals) so Node tests can drive it.
import type { OnnxCheckpoint } from '../../src/formats/onnx';
import type { Checkpoint } from '../../src/formats/tensor';
import { evaluateTable, type EvalMethod, type EvalReport } from '../../src/inference/eval-table';
import { readLabeledSet } from '../../src/inference/labeled';
import { parseTextSet, tokenizeTextSet, type TextRows } from '../../src/inference/labeled-text';
import type { LabeledSet } from '../../src/inference/evaluate';
import type { ExecutionProvider, Feed, ModelSession } from '../../src/inference/ort';
import { encodeBatch, textSpecFor, type TextSpec, type TextTokenizer } from '../../src/inference/text-inputs';
import { routeSample } from '../../src/inference/route';
import { matchGraph, taskOnnx, type NamedWeight } from '../../src/inference/task-onnx';
import type { MergeEngine } from '../../src/merge/engine';
import { runMerge, type MergeResult } from '../../src/merge/merge';
import { describeMethod, methodSpec, type MethodName } from '../../src/merge/methods';
import { taskModel } from '../../src/merge/task-model';
import { CancellableJob, errorMessage } from './cancellable';
import { inferenceDevice } from './inference-device';
import type {
  Column,
  ColumnOutput,
  EvalOutcome,
  EvalRequest,
  InferenceSetup,
  InferOutcome,
  InferRequest,
  SampleOutcome,
  AttachOutcome,
  Routing,
  TextOptions,
} from './protocol';

/** What the host needs of the service: the opened files and the merge result on screen. */
export interface InferenceContext {
  checkpoint(id: string): Checkpoint | undefined;
  held():
    | {
        readonly id: number;
        readonly result: MergeResult;
        readonly engine: MergeEngine;
        readonly source: 'merge' | 'bundle';
      }
    | undefined;
}

type SessionFactory = (model: Uint8Array, provider: ExecutionProvider) => Promise<ModelSession>;

/**
 * onnxruntime-web is loaded on first use only: a merge-only session never pays for it. WebGPU
 * sessions run on the worker's own device (./inference-device.ts).
 */
const ortSessions: SessionFactory = async (model, provider) => {
  const { createSession } = await import('../../src/inference/ort');
  const device = provider === 'webgpu' ? await inferenceDevice() : undefined;
  return createSession(model, { provider, ...(device ? { device } : {}) });
};

/** Sessions kept open: the side-by-side view of one task needs five (individual + 4 methods). */
const SESSION_CACHE = 6;

/** A file with its path in a dropped folder (service.ts's PathedFile; not imported: no cycle). */
interface PathedFile {
  readonly path: string;
  readonly file: Blob;
}

/** A multi-modal text set's images, one per row ([M, ...sampleShape]), preprocessed by the page. */
export interface RowImages {
  readonly data: Float32Array;
  readonly sampleShape: readonly number[];
}

/** One input as a task's graph gets it: a float tensor for its first input, or named feeds. */
type RunInput =
  | { readonly tensor: Float32Array; readonly dims: readonly number[] }
  | { readonly feeds: readonly Feed[]; readonly tokens?: readonly string[]; readonly truncated?: boolean };

/**
 * The columns a result offers: the individual models and the other methods need the task files,
 * so a result restored from a bundle has only its own method.
 */
function columnsOf(held: { readonly result: MergeResult; readonly source: 'merge' | 'bundle' }): Column[] {
  const own = held.result.spec.method;
  if (held.source !== 'merge') return [own];
  return ['individual', own, ...(['emr', 'avg', 'ta', 'ties'] as const).filter((m) => m !== own)];
}

export class InferenceHost {
  /** Graphs given by the user, by task name ('*' = every task without its own). */
  private readonly graphs = new Map<string, { checkpoint: OnnxCheckpoint; file: string }>();
  private readonly labeled = new Map<string, { set: LabeledSet; file: string }>();
  /** Labeled sets of texts, by task: tokenized for the task's graph when they run. */
  private readonly textSets = new Map<string, TextRows & { images?: RowImages }>();
  private tokenizer:
    { tokenizer: TextTokenizer; file: string; config: string | null; options: TextOptions } | undefined;
  /** Task models of methods other than the held one, for the held result's id. */
  private comparisons: { heldId: number; results: Map<MethodName, Promise<MergeResult>> } | undefined;
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  private readonly evaluating = new CancellableJob();

  constructor(
    private readonly ctx: InferenceContext,
    private readonly sessionFactory: SessionFactory = ortSessions,
  ) {}

  /** Uses an opened ONNX checkpoint as the graph of a task (or of every task: '*'). */
  attachGraph(id: string, task: string): AttachOutcome {
    const checkpoint = this.ctx.checkpoint(id);
    if (!checkpoint) return { ok: false, message: 'That file is not open.' };
    if (checkpoint.format !== 'onnx')
      return { ok: false, message: `${checkpoint.files[0]}: a graph must be an .onnx file.` };
    this.graphs.set(task, { checkpoint: checkpoint as OnnxCheckpoint, file: checkpoint.files[0] ?? id });
    void this.dropSessions();
    return { ok: true };
  }

  /** Uses an opened safetensors file (`inputs` + `labels`) as a task's labeled set. */
  async attachLabeled(id: string, task: string): Promise<AttachOutcome> {
    const checkpoint = this.ctx.checkpoint(id);
    if (!checkpoint) return { ok: false, message: 'That file is not open.' };
    try {
      this.labeled.set(task, { set: await readLabeledSet(checkpoint), file: checkpoint.files[0] ?? id });
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** A labeled set built in the page (e.g. from a folder of images named by class). */
  attachLabeledSet(task: string, set: LabeledSet, file: string): void {
    this.textSets.delete(task);
    this.labeled.set(task, { set, file });
  }

  /**
   * A tokenizer.json (and its tokenizer_config.json, told apart by name) for every task whose graph
   * takes text; `options` (the demo's manifest) may fix the sequence length and input names.
   */
  async attachTokenizer(files: readonly PathedFile[], options: TextOptions = {}): Promise<AttachOutcome> {
    const isConfig = (f: PathedFile) => /tokenizer_config\.json$/i.test(f.path);
    const json = files.find((f) => !isConfig(f) && /\.json$/i.test(f.path));
    const config = files.find(isConfig);
    if (!json)
      return {
        ok: false,
        message: `${files.map((f) => f.path).join(', ')}: a tokenizer is a tokenizer.json (with its tokenizer_config.json)`,
      };
    try {
      // The tokenizer library is loaded on first use only: a session without text never pays for it.
      const { loadTokenizer } = await import('../../src/inference/tokenizer');
      const tokenizer = loadTokenizer(
        { file: json.path, text: await json.file.text() },
        config ? { file: config.path, text: await config.file.text() } : null,
      );
      this.tokenizer = { tokenizer, file: json.path, config: config?.path ?? null, options };
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** A multi-modal set: texts (JSONL / CSV rows naming images) and the images the page read. */
  attachTextImages(task: string, rows: TextRows, images: RowImages): void {
    this.labeled.delete(task);
    this.textSets.set(task, { ...rows, images });
  }

  /** A JSON Lines or CSV file of labeled texts as a task's labeled set. */
  async attachLabeledText(
    task: string,
    file: PathedFile,
    classes?: readonly string[],
  ): Promise<AttachOutcome> {
    try {
      const rows = parseTextSet(file.path, await file.file.text(), classes);
      this.labeled.delete(task);
      this.textSets.set(task, rows);
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  setup(): InferenceSetup | undefined {
    const held = this.ctx.held();
    if (!held) return undefined;
    const { result } = held;
    const columns = columnsOf(held);
    return {
      heldId: held.id,
      columns: columns.map((c) => ({ column: c, label: this.label(c) })),
      tasks: result.set.tasks.map((task, t) => {
        const graph = this.graphOf(t);
        const labeled = this.labeled.get(task.name);
        let unused: readonly string[] = [];
        let problem: string | undefined;
        if (graph) {
          const match = matchGraph(
            graph.checkpoint,
            this.weightsOf(held.result, held.engine, t, 'individual'),
            [...held.result.set.base.tensors.values()], // graph-binding: by value through the base
          );
          unused = match.unused;
          if (match.missing.length || match.differing.length || match.matched === 0)
            problem = `${graph.file} does not fit this task: ${[...match.missing.map((m) => `${m} has no weight`), ...match.differing].slice(0, 4).join('; ')}`;
        }
        const text = this.textSpecOf(t);
        const floatInput = graph?.checkpoint.inputs.find((i) => i.elemType !== 'I64') ?? null;
        const input = floatInput ?? graph?.checkpoint.inputs[0];
        const texts = this.textSets.get(task.name);
        return {
          name: task.name,
          graph: graph ? { file: graph.file, own: graph.checkpoint === task.checkpoint } : null,
          graphProblem: problem ?? null,
          unusedWeights: unused,
          input: input ? { name: input.name, shape: input.shape, elemType: input.elemType } : null,
          labeled: texts
            ? { file: texts.file, count: texts.rows.length, sampleShape: [], kind: 'text', pair: texts.pair }
            : labeled
              ? {
                  file: labeled.file,
                  count: labeled.set.labels.length,
                  sampleShape: 'feeds' in labeled.set ? [] : labeled.set.sampleShape,
                  kind: 'feeds' in labeled.set ? 'feeds' : 'tensor',
                  pair: false,
                }
              : null,
          text: text
            ? {
                ids: text.names.ids,
                mask: text.names.mask,
                typeIds: text.names.typeIds ?? null,
                maxLength: text.maxLength,
              }
            : null,
          floatInput: text && floatInput ? floatInput.name : null,
        };
      }),
      tokenizer: this.tokenizer
        ? {
            file: this.tokenizer.file,
            config: this.tokenizer.config,
            modelMaxLength: this.tokenizer.tokenizer.modelMaxLength,
          }
        : null,
    };
  }

  /** The text inputs of task t's graph and the sequence length (textSpecFor); null: no text. */
  private textSpecOf(t: number): TextSpec | null {
    const graph = this.graphOf(t);
    if (!graph) return null;
    return textSpecFor(graph.checkpoint.inputs, {
      maxLength: this.tokenizer?.options.maxLength,
      names: this.tokenizer?.options.names,
      tokenizer: this.tokenizer?.tokenizer,
    });
  }

  /**
   * A run that fails on tokens names the tokenizer: token ids past a model's vocabulary (another
   * model's tokenizer.json) fail inside onnxruntime with a message about indices, not files.
   */
  private withTokenizer(e: unknown, tokenized: boolean): unknown {
    if (!tokenized || !this.tokenizer) return e;
    return new Error(
      `${errorMessage(e)} — with the tokens of ${this.tokenizer.file}: is it this model's tokenizer?`,
      { cause: e },
    );
  }

  /** The tokenizer, or an error that says to add one. */
  private needTokenizer(task: string): TextTokenizer {
    if (!this.tokenizer)
      throw new Error(`${task}'s graph takes text: add its tokenizer.json (with tokenizer_config.json).`);
    return this.tokenizer.tokenizer;
  }

  /** Task t's labeled set as its graph runs it: a text set is tokenized for the graph here. */
  private labeledOf(t: number, task: string): LabeledSet | undefined {
    const texts = this.textSets.get(task);
    if (!texts) return this.labeled.get(task)?.set;
    const spec = this.textSpecOf(t);
    if (!spec) throw new Error(`${texts.file} holds texts, but ${task}'s graph takes no text input.`);
    const float = this.graphOf(t)?.checkpoint.inputs.find((i) => i.elemType !== 'I64');
    if (float && !texts.images)
      throw new Error(`${task}'s graph also takes ${float.name}: its labeled set must name an image a row.`);
    return tokenizeTextSet(
      texts,
      this.needTokenizer(task),
      spec,
      float && texts.images ? { name: float.name, ...texts.images } : undefined,
    );
  }

  /** One input for task t's graph: its text tokenized, its float input, or the feeds as given. */
  private runInput(t: number, req: InferRequest): RunInput {
    if (req.feeds) return { feeds: req.feeds };
    const task = this.ctx.held()?.result.set.tasks[t]?.name ?? String(t);
    const spec = this.textSpecOf(t);
    if (!spec) {
      if (!req.input || !req.dims)
        throw new Error(`${task}'s graph takes no text: give it an image or a tensor.`);
      return { tensor: req.input, dims: req.dims };
    }
    if (!req.text) throw new Error(`${task}'s graph takes text (${spec.names.ids}): type one.`);
    const tokenizer = this.needTokenizer(task);
    const encoded = tokenizer.encode(req.text.text, req.text.pair, spec.maxLength);
    const feeds: Feed[] = encodeBatch(tokenizer, spec, [req.text]);
    const graph = this.graphOf(t);
    const textNames = new Set(feeds.map((f) => f.name));
    for (const other of graph?.checkpoint.inputs ?? []) {
      if (textNames.has(other.name) || other.elemType === 'I64') continue;
      if (!req.input || !req.dims)
        throw new Error(
          `${task}'s graph also takes ${other.name}: give it an image or a tensor beside the text.`,
        );
      feeds.push({ name: other.name, data: req.input, dims: req.dims });
    }
    return { feeds, tokens: encoded.tokens, truncated: encoded.truncated };
  }

  /** Sample `index` of a task's labeled set, as a batch of one. */
  sample(task: string, index: number): SampleOutcome {
    const wrap = (count: number) => ((Math.trunc(index) % count) + count) % count;
    const texts = this.textSets.get(task);
    if (texts) {
      const i = wrap(texts.rows.length);
      const row = texts.rows[i] as TextRows['rows'][number];
      const images = texts.images;
      const size = images?.sampleShape.reduce((a, b) => a * b, 1) ?? 0;
      return {
        ok: true,
        index: i,
        count: texts.rows.length,
        label: row.label,
        text: { text: row.text, pair: row.pair },
        ...(images
          ? { input: images.data.slice(i * size, (i + 1) * size), dims: [1, ...images.sampleShape] }
          : {}),
      };
    }
    const labeled = this.labeled.get(task);
    if (!labeled) return { ok: false, message: `No labeled set for ${task}.` };
    const { set } = labeled;
    const count = set.labels.length;
    const i = wrap(count);
    if ('feeds' in set)
      return {
        ok: true,
        index: i,
        count,
        label: Number(set.labels[i]),
        feeds: set.feeds.map((f) => {
          const size = f.sampleShape.reduce((a, b) => a * b, 1);
          return {
            name: f.name,
            data: f.data.slice(i * size, (i + 1) * size),
            dims: [1, ...f.sampleShape],
          } as Feed;
        }),
      };
    const size = set.sampleShape.reduce((a, b) => a * b, 1);
    return {
      ok: true,
      index: i,
      count,
      label: Number(set.labels[i]),
      input: set.inputs.slice(i * size, (i + 1) * size),
      dims: [1, ...set.sampleShape],
    };
  }

  /**
   * Runs one input through a task's models under every column asked for (or routes it first).
   * One run at a time: a session refuses a second run while one is under way.
   */
  infer(req: InferRequest): Promise<InferOutcome> {
    const next = this.inferring.then(() => this.inferNow(req));
    this.inferring = next.catch(() => undefined);
    return next;
  }

  private inferring: Promise<unknown> = Promise.resolve();

  private async inferNow(req: InferRequest): Promise<InferOutcome> {
    const held = this.ctx.held();
    if (!held) return { ok: false, message: 'Merge first.' };
    try {
      let task = req.task === 'auto' ? -1 : req.task;
      let routing: Routing | undefined;
      if (req.task === 'auto') {
        // Every task's model under the routing column (EMR when there is one) sees the input.
        const via: Column = columnsOf(held).includes('emr') ? 'emr' : held.result.spec.method;
        const outs: Float32Array[] = [];
        for (let t = 0; t < held.result.set.tasks.length; t++)
          outs.push((await this.run(held, via, t, this.runInput(t, req), req.provider)).values);
        const choice = routeSample(outs);
        task = choice.task;
        routing = { column: via, ...choice };
      }
      const outputs: ColumnOutput[] = [];
      const input = this.runInput(task, req);
      for (const column of req.columns) {
        const started = performance.now();
        const out = await this.run(held, column, task, input, req.provider);
        outputs.push({
          column,
          label: this.label(column),
          provider: out.provider,
          values: out.values,
          dims: out.dims,
          ms: performance.now() - started,
        });
      }
      return {
        ok: true,
        task,
        outputs,
        ...(routing ? { routing } : {}),
        ...('tokens' in input && input.tokens
          ? { tokens: input.tokens, truncated: input.truncated === true }
          : {}),
      };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  async evaluate(
    req: EvalRequest,
    onProgress: (done: number, total: number) => void,
    onRows?: (partial: EvalReport) => void,
  ): Promise<EvalOutcome> {
    const held = this.ctx.held();
    if (!held) return { ok: false, cancelled: false, message: 'Merge first.' };
    const tasks = held.result.set.tasks.map((t) => t.name);
    const missing = tasks.filter((name) => !this.labeled.has(name) && !this.textSets.has(name));
    if (missing.length)
      return { ok: false, cancelled: false, message: `Add a labeled set for ${missing.join(', ')}.` };
    const noGraph = tasks.filter((_, t) => !this.graphOf(t));
    if (noGraph.length)
      return { ok: false, cancelled: false, message: `Add an ONNX graph for ${noGraph.join(', ')}.` };
    let labeled: LabeledSet[];
    try {
      labeled = tasks.map((name, t) => this.labeledOf(t, name) as LabeledSet);
    } catch (e) {
      return { ok: false, cancelled: false, message: errorMessage(e) };
    }
    return this.evaluating.run(async (signal) => {
      const methods: EvalMethod[] = req.columns.map((column) => ({
        label: this.label(column),
        emr: column === 'emr',
        model: (t) => this.modelBytes(held, column, t, signal),
      }));
      const report = await evaluateTable({
        tasks,
        methods,
        labeled,
        createSession: (model) => this.sessionFactory(model, req.provider),
        routed: req.routed,
        signal,
        onProgress,
        ...(onRows ? { onRows } : {}),
      }).catch((e: unknown) => {
        throw signal.aborted
          ? e
          : this.withTokenizer(
              e,
              tasks.some((name) => this.textSets.has(name)),
            );
      });
      return { ok: true as const, report };
    }, 'Evaluation cancelled.');
  }

  cancel(): void {
    this.evaluating.cancel();
  }

  /** ui1: forgets every graph, labeled set and the tokenizer, and closes every session (Clear all). */
  async clear(): Promise<void> {
    this.graphs.clear();
    this.labeled.clear();
    this.textSets.clear();
    this.tokenizer = undefined;
    this.comparisons = undefined;
    await this.dropSessions();
  }

  /** Closes every session (a new merge result, a new graph). */
  async dropSessions(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map(async (s) => (await s.catch(() => undefined))?.release().catch(() => {})));
  }

  private label(column: Column): string {
    const held = this.ctx.held();
    if (column === 'individual') return 'Individual';
    if (held && held.result.spec.method === column) return describeMethod(held.result.spec);
    return describeMethod(methodSpec(column));
  }

  private graphOf(t: number): { checkpoint: OnnxCheckpoint; file: string } | undefined {
    const held = this.ctx.held();
    const task = held?.result.set.tasks[t];
    if (!task) return undefined;
    const given = this.graphs.get(task.name) ?? this.graphs.get('*');
    if (given) return given;
    return task.checkpoint.format === 'onnx' && held.source === 'merge'
      ? { checkpoint: task.checkpoint as OnnxCheckpoint, file: task.checkpoint.files[0] ?? task.name }
      : undefined;
  }

  private weightsOf(
    result: MergeResult,
    engine: MergeEngine,
    t: number,
    column: 'individual' | MergeResult,
  ): NamedWeight[] {
    if (column === 'individual') return [...(result.set.tasks[t]?.checkpoint.tensors.values() ?? [])];
    return taskModel(column, t, engine);
  }

  private async resultFor(
    held: NonNullable<ReturnType<InferenceContext['held']>>,
    method: MethodName,
    signal?: AbortSignal,
  ): Promise<MergeResult> {
    if (held.result.spec.method === method) return held.result;
    if (held.source !== 'merge')
      throw new Error(`${method} needs the task files: this result came from a bundle`);
    if (this.comparisons?.heldId !== held.id) this.comparisons = { heldId: held.id, results: new Map() };
    const cache = this.comparisons.results;
    let result = cache.get(method);
    if (!result) {
      result = runMerge(held.result.set, methodSpec(method), held.engine, signal ? { signal } : {});
      cache.set(method, result);
      result.catch(() => cache.delete(method));
    }
    return result;
  }

  private async modelBytes(
    held: NonNullable<ReturnType<InferenceContext['held']>>,
    column: Column,
    t: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const graph = this.graphOf(t);
    const name = held.result.set.tasks[t]?.name ?? String(t);
    if (!graph) throw new Error(`No ONNX graph for ${name}: add one for this task.`);
    const weights =
      column === 'individual'
        ? this.weightsOf(held.result, held.engine, t, 'individual')
        : this.weightsOf(held.result, held.engine, t, await this.resultFor(held, column, signal));
    return taskOnnx(graph.checkpoint, weights, name, held.result.set.base); // bound through the base
  }

  private async run(
    held: NonNullable<ReturnType<InferenceContext['held']>>,
    column: Column,
    t: number,
    input: RunInput,
    provider: ExecutionProvider,
  ) {
    const key = `${held.id}|${column}|${t}|${provider}`;
    let session = this.sessions.get(key);
    if (session)
      this.sessions.delete(key); // re-inserted last: a Map keeps insertion order
    else session = this.modelBytes(held, column, t).then((bytes) => this.sessionFactory(bytes, provider));
    this.sessions.set(key, session);
    session.catch(() => this.sessions.delete(key));
    while (this.sessions.size > SESSION_CACHE) {
      const [oldest, s] = this.sessions.entries().next().value as [string, Promise<ModelSession>];
      this.sessions.delete(oldest);
      void s.then((x) => x.release()).catch(() => {});
    }
    const s = await session;
    try {
      const { data, dims: outDims } =
        'feeds' in input ? await s.runFeeds(input.feeds) : await s.run(input.tensor, input.dims);
      return { provider: s.provider, values: data, dims: outDims };
    } catch (e) {
      throw this.withTokenizer(e, 'tokens' in input);
    }
  }
}
