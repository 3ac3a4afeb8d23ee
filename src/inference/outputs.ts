// Reading a classifier's output row: probabilities (softmax of logits, in f64 for stability) and
// the top classes with their names where known.

/** Softmax of one row, computed in f64 after subtracting the max (no overflow for any finite logits). */
export function softmax(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += out[i] = Math.exp((values[i] as number) - max);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** A row that already is a probability distribution (non-negative, sums to 1): no softmax again. */
export function isProbabilities(values: ArrayLike<number>): boolean {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= 0 && v <= 1)) return false;
    sum += v;
  }
  return values.length > 0 && Math.abs(sum - 1) < 1e-4;
}

export function probabilities(values: ArrayLike<number>): Float64Array {
  return isProbabilities(values) ? Float64Array.from(values as ArrayLike<number>) : softmax(values);
}

export interface ClassScore {
  readonly index: number;
  /** The class's name, or "class i" when none is known. */
  readonly name: string;
  readonly probability: number;
  readonly value: number;
}

/** The k most probable classes, most probable first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number, names?: readonly string[]): ClassScore[] {
  const p = probabilities(values);
  return [...p.keys()]
    .sort((a, b) => (p[b] as number) - (p[a] as number) || a - b)
    .slice(0, k)
    .map((index) => ({
      index,
      name: names?.[index] ?? `class ${index}`,
      probability: p[index] as number,
      value: values[index] as number,
    }));
}

/** Index of the largest value, the first on ties (as torch.argmax and the evaluation do). */
export function top1(values: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < values.length; j++) if ((values[j] as number) > (values[best] as number)) best = j;
  return best;
}

/** Whether two models' answers to one input differ in their top class. */
export function disagrees(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return top1(a) !== top1(b);
}
