// The task models inference runs: each task's graph (given, or its own ONNX file), its weights under
// a column (the individual fine-tune, the held merge, or another method merged on demand by
// src/flow/compare.ts with its default parameters), as ONNX bytes, and a small cache of
// onnxruntime sessions over them.
import type { OnnxCheckpoint } from '../../src/formats/onnx';
import type { ExecutionProvider, Feed, ModelSession } from '../../src/inference/ort';
import type { MergeEngine } from '../../src/merge/engine';
import type { AnyMergeResult } from '../../src/merge/merge';
import { describeMethod, methodSpec, type MethodSpec } from '../../src/merge/methods';
import { METHOD_TABLE, methodNameOf } from '../../src/merge/method-params';
import { ComparisonMerges, graphFor, taskModelOnnx } from '../../src/flow/compare';
import type { GivenGraph, InferenceInputs } from './inference-inputs';
import { inferenceDevice } from './inference-device';
import type { Column } from './protocol';

/** The merge result on screen, as inference sees it. */
export interface HeldResult {
  readonly id: number;
  readonly result: AnyMergeResult;
  readonly engine: MergeEngine;
  readonly source: 'merge' | 'bundle';
  /** The other results kept (one per method, ./kept-results.ts): each gets its own column. */
  readonly others?: readonly HeldResult[];
}

export type SessionFactory = (model: Uint8Array, provider: ExecutionProvider) => Promise<ModelSession>;

/**
 * onnxruntime-web is loaded on first use only: a merge-only session never pays for it. WebGPU
 * sessions run on the worker's own device (./inference-device.ts).
 */
export const ortSessions: SessionFactory = async (model, provider) => {
  const { createSession } = await import('../../src/inference/ort');
  const device = provider === 'webgpu' ? await inferenceDevice() : undefined;
  return createSession(model, { provider, ...(device ? { device } : {}) });
};

/** Sessions kept open: the side-by-side view of one task needs five (individual + 4 methods). */
const SESSION_CACHE = 6;

/** One input as a task's graph gets it: a float tensor for its first input, or named feeds. */
export type RunInput =
  | { readonly tensor: Float32Array; readonly dims: readonly number[] }
  | { readonly feeds: readonly Feed[]; readonly tokens?: readonly string[]; readonly truncated?: boolean };

/**
 * The columns a result offers: the individual models and the other methods need the task files,
 * so a result restored from a bundle has only its own method.
 */
export function columnsOf(held: Pick<HeldResult, 'result' | 'source' | 'others'>): Column[] {
  const own = ownColumn(held);
  if (held.source !== 'merge') return [own];
  return [
    'individual',
    own,
    // The paper's four merge two tasks or more (a SLERP of one task has none to compare with).
    ...(held.result.set.tasks.length < 2
      ? []
      : (['emr', 'avg', 'ta', 'ties'] as const).filter((m) => m !== own)),
    // The other methods merged and kept (not the paper's four: their columns read them, below).
    ...comparable(held)
      .filter((o) => ownColumn(o) === 'merged')
      .map((o): Column => `kept:${o.id}`),
  ];
}

/** The other kept results merged from the same tasks, in the same order (their models fit the graphs). */
function comparable(held: Pick<HeldResult, 'result' | 'others'>): readonly HeldResult[] {
  const names = held.result.set.tasks.map((t) => t.name).join('\n');
  return (held.others ?? []).filter((o) => o.result.set.tasks.map((t) => t.name).join('\n') === names);
}

/**
 * The result a column reads, when it is one at hand: the held one, another kept one (a `kept:`
 * column, or a paper method's column when that method was merged and kept); undefined for the
 * individual models and for a paper method merged on demand with its defaults.
 */
export function resultOf(held: HeldResult, column: Column): HeldResult | undefined {
  if (column === 'individual') return undefined;
  if (column === ownColumn(held)) return held;
  const others = comparable(held);
  if (column.startsWith('kept:')) return others.find((o) => `kept:${o.id}` === column);
  return others.find((o) => ownColumn(o) === column);
}

/** The held result's column: its method's when it is one of the paper's four, else `merged`. */
export function ownColumn(held: Pick<HeldResult, 'result'>): Column {
  const m = held.result.spec.method;
  return m === 'emr' || m === 'avg' || m === 'ta' || m === 'ties' ? m : 'merged';
}

/**
 * The column whose task models route an input with no task id: the held result's own when it has a
 * model per task (EMR, TALL masks, T-Switch), else EMR's when the task files are at hand.
 */
export function routingColumn(held: Pick<HeldResult, 'result' | 'source'>): Column {
  if (METHOD_TABLE[methodNameOf(held.result.spec)].output === 'per-task') return ownColumn(held);
  return columnsOf(held).includes('emr') ? 'emr' : ownColumn(held);
}

export class TaskModels {
  /** Task models of methods other than the held one, for the held result's id. */
  private comparisons: { heldId: number; merges: ComparisonMerges } | undefined;
  private readonly sessions = new Map<string, Promise<ModelSession>>();

  constructor(
    private readonly inputs: InferenceInputs,
    private readonly sessionFactory: SessionFactory,
  ) {}

  label(held: HeldResult | undefined, column: Column): string {
    if (column === 'individual') return 'Individual';
    const kept = held && resultOf(held, column);
    if (kept) return describeMethod(kept.result.spec);
    if (column === 'merged' || column.startsWith('kept:')) throw new Error(`no result for ${column}`);
    return describeMethod(methodSpec(column as MethodSpec['method']));
  }

  /** The graph that runs task t: one given for it or for every task, else its own ONNX file. */
  graphOf(held: HeldResult | undefined, t: number): GivenGraph | undefined {
    const task = held?.result.set.tasks[t];
    if (!task) return undefined;
    const own =
      task.checkpoint.format === 'onnx' && held.source === 'merge'
        ? { checkpoint: task.checkpoint as OnnxCheckpoint, file: task.checkpoint.files[0] ?? task.name }
        : undefined;
    return graphFor(task.name, this.inputs.graphs, own);
  }

  private merges(held: HeldResult): ComparisonMerges {
    if (this.comparisons?.heldId !== held.id)
      this.comparisons = {
        heldId: held.id,
        merges: new ComparisonMerges(held.result.set, held.engine, held.result, held.source === 'merge'),
      };
    return this.comparisons.merges;
  }

  async modelBytes(held: HeldResult, column: Column, t: number, signal?: AbortSignal): Promise<Uint8Array> {
    const graph = this.graphOf(held, t);
    const name = held.result.set.tasks[t]?.name ?? String(t);
    if (!graph) throw new Error(`No ONNX graph for ${name}: add one for this task.`);
    // A result at hand (the held one, another kept one) is that result, whatever its parameters
    // (label() says them); a paper method not kept is merged on demand with its defaults.
    const kept = resultOf(held, column);
    if (kept) return taskModelOnnx(kept.result.set, kept.engine, t, graph.checkpoint, kept.result);
    if (column === 'merged' || column.startsWith('kept:')) throw new Error(`no result for ${column}`);
    const from =
      column === 'individual'
        ? 'individual'
        : await this.merges(held).result(methodSpec(column as MethodSpec['method']), signal);
    return taskModelOnnx(held.result.set, held.engine, t, graph.checkpoint, from);
  }

  session(model: Uint8Array, provider: ExecutionProvider): Promise<ModelSession> {
    return this.sessionFactory(model, provider);
  }

  /** Runs one input through task t's model under a column, on a cached session. */
  async run(held: HeldResult, column: Column, t: number, input: RunInput, provider: ExecutionProvider) {
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
      throw this.inputs.withTokenizer(e, 'tokens' in input);
    }
  }

  /** Forgets the comparison merges (Clear all). */
  forgetComparisons(): void {
    this.comparisons = undefined;
  }

  /** Closes every session (a new merge result, a new graph). */
  async dropSessions(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map(async (s) => (await s.catch(() => undefined))?.release().catch(() => {})));
  }
}
