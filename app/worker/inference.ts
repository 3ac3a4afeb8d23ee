// Per-task inference in the studio worker, behind one host: the inputs (./inference-inputs.ts:
// graphs, labeled sets, the tokenizer), the task models and their sessions (./inference-models.ts,
// the comparison merges being src/flow/compare.ts), what the views show (./inference-setup.ts),
// and here one input run through a task's models, routing, and the evaluation table.
// Plain TypeScript (no worker globals) so Node tests can drive it.
import type { Checkpoint } from '../../src/formats/tensor';
import { evaluateTable, type EvalMethod, type EvalReport } from '../../src/inference/eval-table';
import type { LabeledSet } from '../../src/inference/evaluate';
import type { TextRows } from '../../src/inference/labeled-text';
import type { ExecutionProvider, Feed } from '../../src/inference/ort';
import type { OnnxCheckpoint } from '../../src/formats/onnx';
import type { ChoiceInputs } from './choose-lambda';
import { encodeBatch } from '../../src/inference/text-inputs';
import { routeSample } from '../../src/inference/route';
import { METHOD_TABLE, methodNameOf } from '../../src/merge/method-params';
import { CancellableJob, errorMessage } from './cancellable';
import { InferenceInputs } from './inference-inputs';
import {
  resultOf,
  routingColumn,
  ortSessions,
  TaskModels,
  type HeldResult,
  type RunInput,
  type SessionFactory,
} from './inference-models';
import { inferenceSetup } from './inference-setup';
import type {
  AttachOutcome,
  Column,
  ColumnOutput,
  EvalOutcome,
  EvalRequest,
  InferenceSetup,
  InferOutcome,
  InferRequest,
  PathedFile,
  RowImages,
  Routing,
  SampleOutcome,
  TextOptions,
} from './protocol';

export type { RowImages } from './protocol';

/** What the host needs of the service: the opened files and the merge result on screen. */
export interface InferenceContext {
  checkpoint(id: string): Checkpoint | undefined;
  held(): HeldResult | undefined;
}

export class InferenceHost {
  private readonly inputs = new InferenceInputs();
  private readonly models: TaskModels;
  private readonly evaluating = new CancellableJob();
  private inferring: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: InferenceContext,
    sessionFactory: SessionFactory = ortSessions,
  ) {
    this.models = new TaskModels(this.inputs, sessionFactory);
  }

  attachGraph(id: string, task: string): AttachOutcome {
    const outcome = this.inputs.attachGraph(this.ctx.checkpoint(id), id, task);
    if (outcome.ok) void this.dropSessions();
    return outcome;
  }

  attachLabeled(id: string, task: string): Promise<AttachOutcome> {
    return this.inputs.attachLabeled(this.ctx.checkpoint(id), id, task);
  }

  attachLabeledSet(task: string, set: LabeledSet, file: string): void {
    this.inputs.attachLabeledSet(task, set, file);
  }

  attachTokenizer(files: readonly PathedFile[], options: TextOptions = {}): Promise<AttachOutcome> {
    return this.inputs.attachTokenizer(files, options);
  }

  attachTextImages(task: string, rows: TextRows, images: RowImages): void {
    this.inputs.attachTextImages(task, rows, images);
  }

  attachLabeledText(task: string, file: PathedFile, classes?: readonly string[]): Promise<AttachOutcome> {
    return this.inputs.attachLabeledText(task, file, classes);
  }

  setup(): InferenceSetup | undefined {
    const held = this.ctx.held();
    return held && inferenceSetup(held, this.inputs, this.models);
  }

  sample(task: string, index: number): SampleOutcome {
    return this.inputs.sample(task, index);
  }

  /** One input for task t's graph: its text tokenized, its float input, or the feeds as given. */
  private runInput(held: HeldResult, t: number, req: InferRequest): RunInput {
    if (req.feeds) return { feeds: req.feeds };
    const task = held.result.set.tasks[t]?.name ?? String(t);
    const graph = this.models.graphOf(held, t);
    const spec = this.inputs.textSpecOf(graph);
    if (!spec) {
      if (!req.input || !req.dims)
        throw new Error(`${task}'s graph takes no text: give it an image or a tensor.`);
      return { tensor: req.input, dims: req.dims };
    }
    if (!req.text) throw new Error(`${task}'s graph takes text (${spec.names.ids}): type one.`);
    const tokenizer = this.inputs.needTokenizer(task);
    const encoded = tokenizer.encode(req.text.text, req.text.pair, spec.maxLength);
    const feeds: Feed[] = encodeBatch(tokenizer, spec, [req.text]);
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

  /**
   * Runs one input through a task's models under every column asked for (or routes it first).
   * One run at a time: a session refuses a second run while one is under way.
   */
  infer(req: InferRequest): Promise<InferOutcome> {
    const next = this.inferring.then(() => this.inferNow(req));
    this.inferring = next.catch(() => undefined);
    return next;
  }

  private async inferNow(req: InferRequest): Promise<InferOutcome> {
    const held = this.ctx.held();
    if (!held) return { ok: false, message: 'Merge first.' };
    try {
      let task = req.task === 'auto' ? -1 : req.task;
      let routing: Routing | undefined;
      if (req.task === 'auto') {
        // Every task's model under the routing column (EMR when there is one) sees the input.
        const via: Column = routingColumn(held);
        const outs: Float32Array[] = [];
        for (let t = 0; t < held.result.set.tasks.length; t++)
          outs.push((await this.models.run(held, via, t, this.runInput(held, t, req), req.provider)).values);
        const choice = routeSample(outs);
        task = choice.task;
        routing = { column: via, ...choice };
      }
      const outputs: ColumnOutput[] = [];
      const input = this.runInput(held, task, req);
      for (const column of req.columns) {
        const started = performance.now();
        const out = await this.models.run(held, column, task, input, req.provider);
        outputs.push({
          column,
          label: this.models.label(held, column),
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

  /** Every task's labeled set for its graph, or why there is none. */
  private labeledFor(held: HeldResult): LabeledSet[] | string {
    const tasks = held.result.set.tasks.map((t) => t.name);
    const { labeled: sets, textSets } = this.inputs;
    const missing = tasks.filter((name) => !sets.has(name) && !textSets.has(name));
    if (missing.length) return `Add a labeled set for ${missing.join(', ')}.`;
    const noGraph = tasks.filter((_, t) => !this.models.graphOf(held, t));
    if (noGraph.length) return `Add an ONNX graph for ${noGraph.join(', ')}.`;
    try {
      return tasks.map((name, t) => this.inputs.labeledOf(name, this.models.graphOf(held, t)) as LabeledSet);
    } catch (e) {
      return errorMessage(e);
    }
  }

  /**
   * What choosing λ on the labeled sets (./choose-lambda.ts) needs for a result: the labeled sets,
   * the graphs and the evaluation's own sessions; or why it cannot run.
   */
  choiceInputs(held: HeldResult, provider: ExecutionProvider): ChoiceInputs | string {
    const labeled = this.labeledFor(held);
    if (typeof labeled === 'string') return labeled;
    return {
      labeled,
      graphOf: (t) => this.models.graphOf(held, t)?.checkpoint as OnnxCheckpoint,
      createSession: (model) => this.models.session(model, provider),
    };
  }

  async evaluate(
    req: EvalRequest,
    onProgress: (done: number, total: number) => void,
    onRows?: (partial: EvalReport) => void,
  ): Promise<EvalOutcome> {
    const held = this.ctx.held();
    if (!held) return { ok: false, cancelled: false, message: 'Merge first.' };
    const tasks = held.result.set.tasks.map((t) => t.name);
    const textSets = this.inputs.textSets;
    const labeled = this.labeledFor(held);
    if (typeof labeled === 'string') return { ok: false, cancelled: false, message: labeled };
    return this.evaluating.run(async (signal) => {
      const methods: EvalMethod[] = req.columns.map((column) => {
        const label = this.models.label(held, column);
        // A per-task method's column (held or kept) gets its routed row too, as EMR's does.
        const spec = column === 'emr' ? undefined : resultOf(held, column)?.result.spec;
        const info = spec && METHOD_TABLE[methodNameOf(spec)];
        return {
          label,
          emr: column === 'emr',
          ...(info?.output === 'per-task' ? { routedLabel: `${info.title}, routed (no task id)` } : {}),
          model: (t) => this.models.modelBytes(held, column, t, signal),
        };
      });
      const report = await evaluateTable({
        tasks,
        methods,
        labeled,
        createSession: (model) => this.models.session(model, req.provider),
        routed: req.routed,
        signal,
        onProgress,
        ...(onRows ? { onRows } : {}),
      }).catch((e: unknown) => {
        throw signal.aborted
          ? e
          : this.inputs.withTokenizer(
              e,
              tasks.some((name) => textSets.has(name)),
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
    this.inputs.clear();
    this.models.forgetComparisons();
    await this.dropSessions();
  }

  /** Closes every session (a new merge result, a new graph). */
  dropSessions(): Promise<void> {
    return this.models.dropSessions();
  }
}
