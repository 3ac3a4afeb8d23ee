// The studio keeps one merge result per method (issue #20): merging another method no longer
// replaces the result on screen's neighbours. Each entry counts the bytes it holds in memory; past
// the budget the oldest are spilled to scratch storage as their own artefact (./kept-spill.ts) and
// read back when switched to, or — without scratch storage, or with it full — let go, and the page
// says which.
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

/** A kept result as the policy sees it: its summary, and whether it is on disk now (spilled). */
export interface KeptPlace {
  readonly summary: MergeSummary;
  readonly onDisk?: boolean;
}

/** What a kept result holds in memory now: nothing once spilled. */
const heldBytes = (k: KeptPlace) => (k.onDisk ? 0 : keptBytes(k.summary));

/**
 * The results in memory to move out so that those kept fit the budget, oldest first: never
 * `pinned` (the newest, or the one just switched to and read back), none that holds nothing.
 */
export function overBudget<T extends KeptPlace>(kept: readonly T[], pinned: T, budgetBytes: number): T[] {
  let total = kept.reduce((a, k) => a + heldBytes(k), 0);
  const out: T[] = [];
  for (const k of kept) {
    if (total <= budgetBytes) break;
    if (k === pinned || heldBytes(k) === 0) continue;
    out.push(k);
    total -= heldBytes(k);
  }
  return out;
}

/**
 * The results to keep after `next` arrives, oldest first, those to let go and those to spill: the
 * one of the same method is replaced (let go); past the budget the oldest in memory are spilled to
 * scratch storage when there is some (`canSpill`: they stay kept, on disk), else let go as before.
 * The newest always stays, in memory.
 */
export function keepWithin<T extends KeptPlace>(
  kept: readonly T[],
  next: T,
  budgetBytes: number,
  canSpill = false,
): { keep: T[]; drop: T[]; spill: T[] } {
  const key = keptKey(next.summary);
  const drop = kept.filter((k) => keptKey(k.summary) === key && k !== next);
  const keep = [...kept.filter((k) => !drop.includes(k) && k !== next), next];
  const over = overBudget(keep, next, budgetBytes);
  if (canSpill) return { keep, drop, spill: over };
  return { keep: keep.filter((k) => !over.includes(k)), drop: [...drop, ...over], spill: [] };
}
