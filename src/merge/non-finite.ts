// NaN/±∞ in the weights as read: merged as the formulas say (the kernels never drop them), and
// counted — per model and per shared tensor — so the report can say where they are. The engines
// count per chunk (`nonFinite`: the base's count, then each task's); this adds the chunks up.
import type { TensorName } from '../formats/tensor';
import type { ModelSet } from './model-set';

/** NaN/±∞ elements read from the base and from each task (task order). */
export interface NonFiniteCount {
  readonly base: number;
  readonly tasks: readonly number[];
}

export interface NonFiniteReport extends NonFiniteCount {
  /** Only the shared tensors with any, in merge order. */
  readonly tensors: readonly (NonFiniteCount & { readonly name: TensorName })[];
}

/** Per shared tensor, the base's and each task's counts, added chunk by chunk. */
export class NonFiniteTally {
  private readonly counts: Float64Array[];

  constructor(private readonly set: ModelSet) {
    this.counts = set.shared.map(() => new Float64Array(1 + set.tasks.length));
  }

  /** A chunk's counts (1 + N of them) for shared tensor `tensorIndex`. */
  add(tensorIndex: number, chunk: Uint32Array): void {
    const c = this.counts[tensorIndex] as Float64Array;
    for (let m = 0; m < c.length; m++) c[m] = (c[m] as number) + (chunk[m] as number);
  }

  report(): NonFiniteReport {
    const numTasks = this.set.tasks.length;
    const total = new Float64Array(1 + numTasks);
    const tensors: (NonFiniteCount & { name: TensorName })[] = [];
    this.counts.forEach((c, i) => {
      if (!c.some((x) => x > 0)) return;
      c.forEach((x, m) => (total[m] = (total[m] as number) + x));
      tensors.push({ name: (this.set.shared[i] as { name: TensorName }).name, ...split(c) });
    });
    return { ...split(total), tensors };
  }
}

const split = (c: Float64Array): NonFiniteCount => ({
  base: c[0] as number,
  tasks: Array.from(c.subarray(1)),
});

/** Whether any model had a NaN or ±∞ (a report without counts — a loaded bundle — has none known). */
export const hasNonFinite = (r: NonFiniteReport | undefined): r is NonFiniteReport =>
  r !== undefined && r.tensors.length > 0;

/**
 * One line for the user when any model had NaN/±∞, e.g. "NaN/±∞ in the weights (merged as the
 * formulas say): base 1, task b 40 — in 2 of 5 shared tensors"; undefined when none.
 */
export function nonFiniteWarning(
  r: NonFiniteReport | undefined,
  taskNames: readonly string[],
  sharedTensors: number,
): string | undefined {
  if (!hasNonFinite(r)) return undefined;
  const parts = [
    ...(r.base ? [`base ${r.base.toLocaleString('en')}`] : []),
    ...r.tasks.flatMap((n, t) => (n ? [`${taskNames[t] ?? `task ${t}`} ${n.toLocaleString('en')}`] : [])),
  ];
  return `NaN/±∞ in the weights (merged as the formulas say): ${parts.join(', ')} — in ${r.tensors.length} of ${sharedTensors} shared tensors`;
}

/** The report with its warning line, for a summary to carry; undefined when there were none. */
export function nonFiniteSummary(
  r: NonFiniteReport | undefined,
  taskNames: readonly string[],
  sharedTensors: number,
): (NonFiniteReport & { readonly warning: string }) | undefined {
  const warning = nonFiniteWarning(r, taskNames, sharedTensors);
  return r && warning ? { ...r, warning } : undefined;
}
