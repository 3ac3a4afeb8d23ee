// The results chosen on the labeled sets (./choose-lambda.ts), in place of the kept results they
// were chosen for. The kept list itself is the merge host's (./merging.ts, one result per method):
// a chosen result stands in for its kept one wherever the service hands a result out (Inspect,
// Try, Evaluate, Export) and goes when the kept one goes; while the kept one is spilled to disk it
// has no column, and once read back its choice stands in again. The page knows the chosen result by its
// own summary id; the merge host by the kept one's.
import type { Held } from './merging';

/**
 * Chosen results' summary ids: above the merge host's, which are the clock in ms (≈ 1.8·10¹²)
 * counting up one per merge, and from the clock too, so a restarted worker never repeats one.
 */
const FIRST_ID = 2 ** 42 + Date.now();

export class ChosenResults {
  /** By the kept result's summary id: the result chosen in its place. */
  private readonly byKept = new Map<number, Held>();
  private next = FIRST_ID;

  /** A new summary id for a chosen result. */
  newId(): number {
    return this.next++;
  }

  /** `chosen` stands in for the kept result `keptId` from now on (a choice made again replaces it). */
  set(keptId: number, chosen: Held): void {
    this.byKept.set(keptId, chosen);
  }

  /** The result to hand out for a kept one: the one chosen in its place, if any. */
  read<H extends Held | undefined>(kept: H): H | Held {
    return (kept && this.byKept.get(kept.summary.id)) ?? kept;
  }

  /** The merge host's id of what the page calls `id` (a chosen result's: its kept one's). */
  keptId(id: number): number {
    for (const [kept, chosen] of this.byKept) if (chosen.summary.id === id) return kept;
    return id;
  }

  /** The id the page knows a kept result by (its chosen one's, if any). */
  pageId(keptId: number): number {
    return this.byKept.get(keptId)?.summary.id ?? keptId;
  }

  /** Forgets the choices of kept results the merge host let go (its outcomes' `dropped`). */
  forget(keptIds: Iterable<number>): void {
    for (const id of keptIds) this.byKept.delete(id);
  }

  clear(): void {
    this.byKept.clear();
  }
}
