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
import { softmax } from './outputs';

export interface RouteChoice {
  readonly task: number;
  readonly confidence: number;
  /** The second most confident task (null with one task). */
  readonly runnerUp: { readonly task: number; readonly confidence: number } | null;
  /** Every task's confidence, in task order. */
  readonly scores: readonly number[];
}

/** 1 − H(softmax(logits)) / log K; a head with one class is certain (1). */
export function confidence(logits: ArrayLike<number>): number {
  const k = logits.length;
  if (k <= 1) return 1;
  const p = softmax(logits);
  let h = 0;
  for (const q of p) if (q > 0) h -= q * Math.log(q);
  return 1 - h / Math.log(k);
}

/** Picks the task for one input from every task's output row for it. */
export function routeSample(perTask: readonly ArrayLike<number>[]): RouteChoice {
  if (perTask.length === 0) throw new RangeError('routing needs at least one task');
  const scores = perTask.map(confidence);
  const order = [...scores.keys()].sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const [first, second] = order as [number, ...number[]];
  return {
    task: first,
    confidence: scores[first] as number,
    runnerUp: second === undefined ? null : { task: second, confidence: scores[second] as number },
    scores,
  };
}
