// The paper's accuracy table on the user's labeled data, shared by the studio and the CLI so both
// compute every cell the same way: each task's individual model and its model under each method,
// run on that task's labeled set; and for EMR, the routed row — every input of every task's set
// sent through every task's EMR model, the task picked by the confidence rule of route.ts.
import { countCorrect, predict, type LabeledSet } from './evaluate';
import type { ExecutionProvider, ModelSession } from './ort';
import { routedAccuracy, type RoutedSample } from './route';
import type { AccuracyRow, AccuracyTable, RoutingSummary } from './table';

/** A column of models: the individual fine-tunes, or one merge method's task models. */
export interface EvalMethod {
  /** Row label in the table ("Individual", "EMR-Merging", "TIES-Merging (k=0.2, λ=1)", …). */
  readonly label: string;
  /** True for the EMR row: it also gets the routed row. */
  readonly emr: boolean;
  /**
   * A per-task method's routed row (TALL masks, T-Switch: one model per task, like EMR's): its
   * label. The EMR row's is ROUTED_LABEL; the routing summary stays EMR's when both are present.
   */
  readonly routedLabel?: string;
  /** ONNX bytes of task t's model under this method. */
  model(t: number): Promise<Uint8Array>;
}

export interface EvalInput {
  readonly tasks: readonly string[];
  /** The individual models first, then the methods in the order their rows should appear. */
  readonly methods: readonly EvalMethod[];
  /** One labeled set per task, in task order. */
  readonly labeled: readonly LabeledSet[];
  readonly createSession: (model: Uint8Array) => Promise<ModelSession>;
  /** Add the routed EMR row (N × N model runs instead of N). */
  readonly routed?: boolean;
  readonly signal?: AbortSignal;
  readonly batchSize?: number;
  /** Samples run so far, of all the runs the table needs. */
  readonly onProgress?: (done: number, total: number) => void;
  /** The table so far, after each method's rows: what a cancelled evaluation keeps. */
  readonly onRows?: (partial: EvalReport) => void;
}

export interface EvalReport extends AccuracyTable {
  readonly routing?: RoutingSummary;
  /** Execution providers the sessions ran on (usually one). */
  readonly providers: readonly ExecutionProvider[];
}

export const ROUTED_LABEL = 'EMR-Merging, routed (no task id)';

export async function evaluateTable(input: EvalInput): Promise<EvalReport> {
  const { tasks, labeled, methods } = input;
  const n = tasks.length;
  if (labeled.length !== n) throw new RangeError(`${labeled.length} labeled sets for ${n} tasks`);
  const counts = labeled.map((s) => s.labels.length);
  const totalSamples = counts.reduce((a, b) => a + b, 0);
  const routes = (m: EvalMethod) => m.emr || m.routedLabel !== undefined;
  const routed = input.routed === true && methods.some(routes);
  const total =
    methods.length * totalSamples + (routed ? methods.filter(routes).length * (n - 1) * totalSamples : 0);
  let done = 0;
  const providers = new Set<ExecutionProvider>();
  const options = {
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.batchSize ? { batchSize: input.batchSize } : {}),
    onProgress: (d: number) => input.onProgress?.(done + d, total),
  };

  /** Runs task t's model of a method on the sets listed; returns their logits. */
  const run = async (method: EvalMethod, t: number, sets: readonly number[]) => {
    input.signal?.throwIfAborted();
    const session = await input.createSession(await method.model(t));
    providers.add(session.provider);
    try {
      const out = new Map<number, { logits: Float32Array; classes: number }>();
      for (const s of sets) {
        const set = labeled[s] as LabeledSet;
        out.set(s, await predict(session, { ...set, count: set.labels.length }, options));
        done += set.labels.length;
      }
      return out;
    } finally {
      await session.release();
    }
  };

  const rows: AccuracyRow[] = [];
  let routing: RoutingSummary | undefined;
  for (const method of methods) {
    const accuracy: number[] = [];
    // For the routed row: logits[t][s] = task t's EMR model on set s.
    const all: Map<number, { logits: Float32Array; classes: number }>[] = [];
    for (let t = 0; t < n; t++) {
      const sets = routes(method) && routed ? tasks.map((_, s) => s) : [t];
      const out = await run(method, t, sets);
      all.push(out);
      const own = out.get(t) as { logits: Float32Array; classes: number };
      const set = labeled[t] as LabeledSet;
      accuracy.push(
        counts[t] ? countCorrect(own.logits, own.classes, set.labels) / (counts[t] as number) : 0,
      );
    }
    rows.push({ method: method.label, accuracy });
    if (routes(method) && routed) {
      const { row, summary } = routedRow(all, labeled);
      rows.push({ method: method.routedLabel ?? ROUTED_LABEL, accuracy: row });
      if (method.emr || !routing) routing = summary;
    }
    input.onRows?.({
      tasks: [...tasks],
      rows: [...rows],
      ...(routing ? { routing } : {}),
      providers: [...providers],
    });
  }
  input.onProgress?.(total, total);
  return { tasks: [...tasks], rows, ...(routing ? { routing } : {}), providers: [...providers] };
}

/** Every input of every set, with every task's output row for it: what routedAccuracy takes. */
function* routedSamples(
  all: readonly ReadonlyMap<number, { logits: Float32Array; classes: number }>[],
  labeled: readonly LabeledSet[],
): Generator<RoutedSample> {
  for (const [s, set] of labeled.entries()) {
    const perTask = all.map((out) => out.get(s) as { logits: Float32Array; classes: number });
    for (let i = 0; i < set.labels.length; i++)
      yield {
        task: s,
        label: Number(set.labels[i]),
        logits: perTask.map((o) => o.logits.subarray(i * o.classes, (i + 1) * o.classes)),
      };
  }
}

function routedRow(
  all: readonly ReadonlyMap<number, { logits: Float32Array; classes: number }>[],
  labeled: readonly LabeledSet[],
): { row: number[]; summary: RoutingSummary } {
  const r = routedAccuracy(routedSamples(all, labeled), all.length);
  return {
    row: r.perTask.map((t) => t.accuracy),
    summary: {
      picked: r.perTask.map((t) => t.routing),
      pickedAll: r.routing,
      accuracyAll: r.accuracy,
      picks: r.picks,
    },
  };
}
