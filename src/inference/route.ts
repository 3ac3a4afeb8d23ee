// Routing an input to a task without a task id. EMR-Merging reconstructs one model per task and
// the paper assumes a perfect router; here every task's model sees the input and the task whose
// answer is the most confident wins.
//
// The rule: for task t with K_t classes, p = softmax(logits_t), H_t = −Σ p log p, and the
// normalized entropy h_t = H_t / log K_t in [0, 1]; confidence c_t = 1 − h_t. The task with the
// highest confidence (lowest h_t) is picked; ties go to the lower task index.
//
// Calibration note: entropies of different heads are not calibrated against each other. Dividing
// by log K_t puts a 2-class and a 10-class head on one scale (a uniform answer scores 0 for both,
// a one-hot answer 1), but a head trained on an easier task is sharper on everything, including
// inputs of other tasks, so it attracts inputs; no temperature is fitted per task (that would need
// held-out data of every task). The evaluation's routed row measures how well the rule does on
// the user's own sets: read it beside the oracle-routed EMR row.
import { softmax, top1 } from './outputs';

export interface RouteChoice {
  readonly task: number;
  readonly confidence: number;
  /** The second most confident task (null with one task). */
  readonly runnerUp: { readonly task: number; readonly confidence: number } | null;
  /** Every task's confidence, in task order. */
  readonly scores: readonly number[];
}

/** 1 − H(softmax(logits)) / log K; a head with one class is certain (1); NaN for NaN logits. */
export function confidence(logits: ArrayLike<number>): number {
  const k = logits.length;
  if (k <= 1) return 1;
  const p = softmax(logits);
  let h = 0;
  for (const q of p) {
    if (Number.isNaN(q)) return Number.NaN; // a NaN logit says nothing: not certainty
    if (q > 0) h -= q * Math.log(q);
  }
  return 1 - h / Math.log(k);
}

/** A NaN confidence (a row with NaN logits) ranks below every number, so it never wins a tie. */
const rank = (c: number) => (Number.isNaN(c) ? -Infinity : c);

/** Picks the task for one input from every task's output row for it. */
export function routeSample(perTask: readonly ArrayLike<number>[]): RouteChoice {
  if (perTask.length === 0) throw new RangeError('routing needs at least one task');
  const scores = perTask.map(confidence);
  const order = [...scores.keys()].sort(
    (a, b) => rank(scores[b] as number) - rank(scores[a] as number) || a - b,
  );
  const [first, second] = order as [number, ...number[]];
  return {
    task: first,
    confidence: scores[first] as number,
    runnerUp: second === undefined ? null : { task: second, confidence: scores[second] as number },
    scores,
  };
}

/** One input of the union of the tasks' labeled sets, with every task's output row for it. */
export interface RoutedSample {
  /** The task whose labeled set the input comes from. */
  readonly task: number;
  /** Its label in that task's classes. */
  readonly label: number | bigint;
  /** Task t's model's output row for the input, for every task t in order. */
  readonly logits: readonly ArrayLike<number>[];
}

export interface RoutedTaskAccuracy {
  readonly samples: number;
  /** Share of this task's inputs routed to this task. */
  readonly routing: number;
  /** Share of this task's inputs routed to it and answered right: the routed row's cell. */
  readonly accuracy: number;
}

export interface RoutedAccuracy {
  readonly samples: number;
  /** Over the union (each input counts once): routed to its own task. */
  readonly routing: number;
  /** Over the union: routed to its own task and that task's top-1 equals the label. */
  readonly accuracy: number;
  readonly perTask: readonly RoutedTaskAccuracy[];
  /** picks[true task][picked task]: counts, to see which tasks attract which inputs. */
  readonly picks: readonly (readonly number[])[];
}

/**
 * The routed row: every input routed by routeSample over all `tasks` tasks' rows; right when it
 * goes to its own task and that task's top-1 equals its label. A task without inputs scores 0.
 */
export function routedAccuracy(samples: Iterable<RoutedSample>, tasks: number): RoutedAccuracy {
  const counts = new Array<number>(tasks).fill(0);
  const right = new Array<number>(tasks).fill(0);
  const correct = new Array<number>(tasks).fill(0);
  const picks = Array.from({ length: tasks }, () => new Array<number>(tasks).fill(0));
  for (const sample of samples) {
    const t = sample.task;
    if (!(Number.isInteger(t) && t >= 0 && t < tasks))
      throw new RangeError(`a sample of task ${t}; there are ${tasks} tasks`);
    if (sample.logits.length !== tasks)
      throw new RangeError(
        `a sample of task ${t} has ${sample.logits.length} output rows for ${tasks} tasks`,
      );
    const picked = routeSample(sample.logits).task;
    counts[t] = (counts[t] as number) + 1;
    const row = picks[t] as number[];
    row[picked] = (row[picked] as number) + 1;
    if (picked !== t) continue;
    right[t] = (right[t] as number) + 1;
    if (top1(sample.logits[t] as ArrayLike<number>) === Number(sample.label))
      correct[t] = (correct[t] as number) + 1;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const share = (n: number, of: number) => (of ? n / of : 0);
  return {
    samples: total,
    routing: share(sum(right), total),
    accuracy: share(sum(correct), total),
    perTask: counts.map((m, t) => ({
      samples: m,
      routing: share(right[t] as number, m),
      accuracy: share(correct[t] as number, m),
    })),
    picks,
  };
}
