// Recent merges as the service keeps them: where the files came from (the demo zoo or the user's),
// each finished EMR merge saved in the background (./recent.ts writes it to OPFS), and why the last
// save failed, if it did. Saves run one after another on one chain, which also orders the release
// of a replaced result's values after any save still reading them.
import type { EmrResult } from '../../src/merge/merge';
import type { PerTaskResult } from '../../src/merge/pertask/result';
import { errorMessage } from './cancellable';
import type { RecentMerge } from './protocol';
import { RecentMerges } from './recent';

export class RecentKeeper {
  private readonly recent = new RecentMerges();
  /** The recent-merge save under way, so a listing waits for it. */
  private saving: Promise<unknown> = Promise.resolve();
  private origin: 'demo' | 'user' = 'user';
  private zoo: string | undefined;
  /** Why the last save to recent merges failed (e.g. storage full), if it did. */
  private saveProblem: string | undefined;

  /** Where the files came from (the demo zoo or the user's), recorded with recent merges. */
  setOrigin(origin: 'demo' | 'user', zoo?: string): void {
    this.origin = origin;
    this.zoo = origin === 'demo' ? zoo : undefined;
  }

  async list(): Promise<{ merges: RecentMerge[]; problem?: string }> {
    await this.saving;
    return { merges: await this.recent.list(), ...(this.saveProblem ? { problem: this.saveProblem } : {}) };
  }

  /** A recent merge's bundle, as a file to add like a dropped one. */
  file(id: string): Promise<File> {
    return this.recent.file(id);
  }

  remove(id: string): Promise<void> {
    return this.recent.remove(id);
  }

  /** Saves a finished EMR or per-task merge, in the background (the result shows at once). */
  keep(result: EmrResult | PerTaskResult, base: { file: string; bytes: number }): void {
    this.saving = this.saving
      .then(() => this.recent.save(result, base, this.origin, this.zoo))
      .then(
        () => (this.saveProblem = undefined),
        (e: unknown) => (this.saveProblem = `The merge was not kept in recent merges: ${errorMessage(e)}`),
      );
  }

  /** Runs `release` once every save started so far is done (a save may still read the values). */
  afterSaves(release: () => Promise<void>): void {
    this.saving = this.saving.then(release).catch(() => {});
  }
}
