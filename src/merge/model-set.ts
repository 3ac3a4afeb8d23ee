// The model set: a base and N named tasks, and which tensors are merged (shared) and which pass
// through from their task, with the reason for each one left out. Built from headers alone, so a
// mismatch is known before any tensor byte is read.
import type { DType, MergeDType } from '../formats/dtype';
import { isMergeDType } from '../formats/dtype';
import type { Checkpoint, TensorEntry, TensorName } from '../formats/tensor';

export interface TaskInput {
  readonly name: string;
  readonly checkpoint: Checkpoint;
}

/** A tensor merged across the base and every task (same name, same shape, float dtype everywhere). */
export interface SharedTensor {
  readonly name: TensorName;
  readonly shape: readonly number[];
  readonly numel: number;
  readonly base: TensorEntry & { readonly dtype: MergeDType };
  /** One entry per task, in task order; dtypes may differ from the base's. */
  readonly tasks: readonly (TensorEntry & { readonly dtype: MergeDType })[];
}

export type LeftOutReason =
  | 'missing-in-base' // a task has it, the base does not (a new head)
  | 'missing-in-task' // the base and some tasks have it, this task does not
  | 'shape-mismatch' // present everywhere needed, but shapes differ (a head with other classes)
  | 'non-float'; // an integer or bool tensor (position ids, buffers)

export interface LeftOut {
  readonly name: TensorName;
  readonly reason: LeftOutReason;
  /** Human-readable detail: which task lacks it, which shapes differ, which dtype. */
  readonly detail: string;
  /** Tasks that have this tensor and so carry it through unchanged into their models. */
  readonly passThroughTasks: readonly string[];
}

export interface AlignmentReport {
  readonly shared: readonly { name: TensorName; shape: readonly number[]; dtypes: readonly DType[] }[];
  readonly leftOut: readonly LeftOut[];
  readonly sharedParameters: number;
  /** Tensors in the base that no task-wide merge uses and no task carries (e.g. the pretext head). */
  readonly baseOnly: readonly TensorName[];
}

export interface ModelSet {
  readonly base: Checkpoint;
  readonly tasks: readonly TaskInput[];
  readonly shared: readonly SharedTensor[];
  /** Per task (task order): its tensors that pass through unchanged, in its own file order. */
  readonly passThrough: readonly (readonly TensorEntry[])[];
  readonly report: AlignmentReport;
}

export class ModelSetError extends Error {
  override readonly name = 'ModelSetError';
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A checkpoint without its tied aliases (PyTorch's lm_head.weight over the embedding's bytes), as
 * Hugging Face's safetensors files are: the bytes are merged once under the first name, a
 * safetensors twin that omits the alias aligns with it, and outputs omit it (transformers re-ties
 * on load).
 */
export function untied(checkpoint: Checkpoint): Checkpoint {
  const tied = checkpoint.tied;
  if (!tied || tied.size === 0) return checkpoint;
  const tensors = new Map([...checkpoint.tensors].filter(([name]) => !tied.has(name)));
  return { format: checkpoint.format, files: checkpoint.files, metadata: checkpoint.metadata, tensors };
}

/** `minTasks`: 2 (EMR and the baselines); 1 for mergekit's slerp (the base and one model). */
export function buildModelSet(
  base: Checkpoint,
  tasks: readonly TaskInput[],
  options: { minTasks?: number } = {},
): ModelSet {
  return alignModelSet(
    untied(base),
    tasks.map((t) => (t.checkpoint.tied ? { ...t, checkpoint: untied(t.checkpoint) } : t)),
    options.minTasks ?? 2,
  );
}

function alignModelSet(base: Checkpoint, tasks: readonly TaskInput[], minTasks: number): ModelSet {
  if (tasks.length < minTasks) {
    throw new ModelSetError(
      minTasks === 2
        ? `EMR-Merging needs at least two tasks; got ${tasks.length}.`
        : `This merge needs at least ${minTasks} model${minTasks > 1 ? 's' : ''} besides the base; got ${tasks.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const t of tasks) {
    if (!t.name.trim()) throw new ModelSetError('A task has an empty name.');
    if (seen.has(t.name))
      throw new ModelSetError(`Two tasks are named "${t.name}"; task names must be unique.`);
    seen.add(t.name);
  }

  const shared: SharedTensor[] = [];
  const leftOut: LeftOut[] = [];
  const sharedNames = new Set<TensorName>();
  for (const [name, b] of base.tensors) {
    const inTasks = tasks.map((t) => t.checkpoint.tensors.get(name));
    const having = tasks.filter((_, i) => inTasks[i] !== undefined).map((t) => t.name);
    if (having.length === 0) continue; // base-only, listed below
    const missing = tasks.filter((_, i) => inTasks[i] === undefined).map((t) => t.name);
    const entries = inTasks.filter((e): e is TensorEntry => e !== undefined);
    const nonFloat = [b, ...entries].find((e) => !isMergeDType(e.dtype));
    if (missing.length > 0) {
      leftOut.push({
        name,
        reason: 'missing-in-task',
        detail: `missing from ${missing.join(', ')}`,
        passThroughTasks: having,
      });
    } else if (nonFloat) {
      // Which model holds it, and in which file: "I64" alone does not say where to look.
      const holder = nonFloat === b ? 'the base' : `task ${tasks[inTasks.indexOf(nonFloat)]?.name ?? '?'}`;
      leftOut.push({
        name,
        reason: 'non-float',
        detail: `dtype ${nonFloat.dtype} in ${holder} (${nonFloat.file}) is not merged`,
        passThroughTasks: having,
      });
    } else if (!entries.every((e) => sameShape(e.shape, b.shape))) {
      const shapes = [
        `base [${b.shape.join(', ')}]`,
        ...tasks.map((t, i) => `${t.name} [${inTasks[i]?.shape.join(', ')}]`),
      ];
      leftOut.push({
        name,
        reason: 'shape-mismatch',
        detail: `shapes differ: ${shapes.join(', ')}`,
        passThroughTasks: having,
      });
    } else {
      shared.push({
        name,
        shape: b.shape,
        numel: b.shape.reduce((a, d) => a * d, 1),
        base: b as SharedTensor['base'],
        tasks: entries as SharedTensor['tasks'],
      });
      sharedNames.add(name);
    }
  }
  // Tensors some task has and the base does not (new heads), reported once per name.
  const notInBase = new Map<TensorName, string[]>();
  for (const t of tasks) {
    for (const name of t.checkpoint.tensors.keys()) {
      if (!base.tensors.has(name)) notInBase.set(name, [...(notInBase.get(name) ?? []), t.name]);
    }
  }
  for (const [name, having] of notInBase) {
    leftOut.push({
      name,
      reason: 'missing-in-base',
      detail: `not in the base; carried by ${having.join(', ')}`,
      passThroughTasks: having,
    });
  }
  if (shared.length === 0) {
    throw new ModelSetError(
      'No tensor is shared by the base and every task (same name and shape, float dtype): ' +
        `these files do not look like fine-tunes of one base model (base: ${base.files[0] ?? '?'}; ` +
        `${tasks.map((t) => `${t.name}: ${t.checkpoint.files[0] ?? '?'}`).join(', ')}).` +
        (leftOut.length
          ? ` For example: ${leftOut
              .slice(0, 3)
              .map((l) => `${l.name} (${l.detail})`)
              .join('; ')}.`
          : ''),
    );
  }

  const passThrough = tasks.map((t) =>
    [...t.checkpoint.tensors.values()].filter((e) => !sharedNames.has(e.name)),
  );
  const baseOnly = [...base.tensors.keys()].filter(
    (n) => !sharedNames.has(n) && !tasks.some((t) => t.checkpoint.tensors.has(n)),
  );
  return {
    base,
    tasks,
    shared,
    passThrough,
    report: {
      shared: shared.map((s) => ({
        name: s.name,
        shape: s.shape,
        dtypes: [s.base.dtype, ...s.tasks.map((e) => e.dtype)],
      })),
      leftOut,
      sharedParameters: shared.reduce((a, s) => a + s.numel, 0),
      baseOnly,
    },
  };
}
