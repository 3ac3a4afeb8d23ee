// One cancellable job at a time (a merge, an evaluation): a new one aborts the one before, Cancel
// aborts the current one, and a job that fails says whether it was cancelled or why it failed.

export const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

export type JobFailure = { readonly ok: false; readonly cancelled: boolean; readonly message: string };

export class CancellableJob {
  private current: AbortController | undefined;

  /** Runs `work`; on failure `cleanUp` runs and the failure is told as cancelled or with its reason. */
  async run<T>(
    work: (signal: AbortSignal) => Promise<T>,
    cancelledMessage: string,
    cleanUp: () => void = () => {},
  ): Promise<T | JobFailure> {
    this.current?.abort();
    const controller = new AbortController();
    this.current = controller;
    try {
      return await work(controller.signal);
    } catch (e) {
      cleanUp();
      const aborted = (e instanceof DOMException && e.name === 'AbortError') || controller.signal.aborted;
      return { ok: false, cancelled: aborted, message: aborted ? cancelledMessage : errorMessage(e) };
    } finally {
      if (this.current === controller) this.current = undefined;
    }
  }

  cancel(): void {
    this.current?.abort();
  }
}
