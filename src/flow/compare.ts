// The task models the evaluation table and the side-by-side view compare: a task's individual
// model, and its model under every other method, merged lazily from the same model set on the same
// engine (once per method, on first use), each put in its task's ONNX graph — bound to the weights
// through the base (src/inference/graph-binding.ts).
import type { OnnxCheckpoint } from '../formats/onnx';
import { taskOnnx, type NamedWeight } from '../inference/task-onnx';
import type { MergeEngine } from '../merge/engine';
import { runMerge, type AnyMergeResult } from '../merge/merge';
import type { AnyMethodSpec } from '../merge/methods';
import type { ModelSet } from '../merge/model-set';
import { taskModel } from '../merge/task-model';

/**
 * A spec's identity: its whole value (mergekit's methods all say `method: 'mergekit'`, and the same
 * method with other parameters is another merge), keys sorted so the order they were set in does
 * not matter.
 */
export function specKey(spec: AnyMethodSpec): string {
  return JSON.stringify(spec, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Merges of one model set under other methods (or parameters), each run once, on first use. */
export class ComparisonMerges {
  private readonly results = new Map<string, Promise<AnyMergeResult>>();

  constructor(
    private readonly set: ModelSet,
    private readonly engine: MergeEngine,
    /** The result already made (returned for its own method). */
    private readonly own?: AnyMergeResult,
    /** False for a result restored from a bundle: other methods need the task files. */
    private readonly tasksAvailable = true,
  ) {}

  result(spec: AnyMethodSpec, signal?: AbortSignal): Promise<AnyMergeResult> {
    const key = specKey(spec);
    if (this.own && specKey(this.own.spec) === key) return Promise.resolve(this.own);
    if (!this.tasksAvailable)
      return Promise.reject(new Error(`${spec.method} needs the task files: this result came from a bundle`));
    let result = this.results.get(key);
    if (!result) {
      result = runMerge(this.set, spec, this.engine, signal ? { signal } : {});
      this.results.set(key, result);
      // A failed (or cancelled) merge is made again when next asked for.
      result.catch(() => this.results.delete(key));
    }
    return result;
  }
}

/** Task t's weights: its own file's tensors (`individual`), or its model under a merge result. */
export function taskWeights(
  set: ModelSet,
  engine: MergeEngine,
  t: number,
  from: 'individual' | AnyMergeResult,
): NamedWeight[] {
  if (from === 'individual') return [...(set.tasks[t]?.checkpoint.tensors.values() ?? [])];
  return taskModel(from, t, engine);
}

/** Task t's model as ONNX bytes in `graph`, bound through the base. */
export function taskModelOnnx(
  set: ModelSet,
  engine: MergeEngine,
  t: number,
  graph: OnnxCheckpoint,
  from: 'individual' | AnyMergeResult,
): Promise<Uint8Array> {
  return taskOnnx(graph, taskWeights(set, engine, t, from), set.tasks[t]?.name ?? String(t), set.base);
}

/**
 * The graph that runs a task: one given for it by name, else one given for every task ('*'), else
 * the task's own file when it is ONNX (and the task files are at hand).
 */
export function graphFor<G>(task: string, given: ReadonlyMap<string, G>, own: G | undefined): G | undefined {
  return given.get(task) ?? given.get('*') ?? own;
}

/** A task's own file as its graph, when it came as ONNX. */
export const ownGraph = (task: ModelSet['tasks'][number]): OnnxCheckpoint | undefined =>
  task.checkpoint.format === 'onnx' ? (task.checkpoint as OnnxCheckpoint) : undefined;
