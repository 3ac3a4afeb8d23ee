// The studio keeps one merge result per method (issue #20): merging another method no longer
// replaces the result on screen's neighbours. Each entry counts the bytes it holds in memory; past
// the budget the oldest go (never the newest), and the page says which.
import type { MergeSummary } from '../../src/flow/summary';
import { methodNameOf, type AnyMethodName } from '../../src/merge/method-params';

/** The method a result is kept under: one result per name of the method table. */
export const keptKey = (summary: Pick<MergeSummary, 'spec'>): AnyMethodName => methodNameOf(summary.spec);

/**
 * What a result holds in memory, from its summary: EMR's τ_uni and masks unless spilled or read from
 * a bundle; a per-task method's shared vector and per-task parts (its artefact's size); otherwise
 * one merged model, 4 bytes per shared parameter.
 */
export function keptBytes(summary: MergeSummary): number {
  if (summary.values) return summary.values.location === 'memory' ? summary.values.bytes : 0;
  if (summary.storage.bundleBytes > 0) return summary.storage.bundleBytes;
  return 4 * summary.tensors.reduce((a, t) => a + t.numel, 0);
}

/**
 * The results to keep after `next` arrives, oldest first, and those to let go: the one of the same
 * method, then the oldest while the total passes the budget (the newest always stays).
 */
export function keepWithin<T extends { readonly summary: MergeSummary }>(
  kept: readonly T[],
  next: T,
  budgetBytes: number,
): { keep: T[]; drop: T[] } {
  const key = keptKey(next.summary);
  const drop = kept.filter((k) => keptKey(k.summary) === key && k !== next);
  const keep = [...kept.filter((k) => !drop.includes(k) && k !== next), next];
  let total = keep.reduce((a, k) => a + keptBytes(k.summary), 0);
  while (keep.length > 1 && total > budgetBytes) {
    const oldest = keep.shift() as T;
    total -= keptBytes(oldest.summary);
    drop.push(oldest);
  }
  return { keep, drop };
}
