// The results the studio keeps, one per method (app/worker/kept-results.ts decides in the worker):
// a finished merge or a restored bundle is added and put on screen, those the worker let go leave
// with a notice saying why, and the switcher puts another kept one on screen for Inspect, Try,
// Evaluate and Export.
import { describeMethod } from '../../src/merge/methods';
import { studioWorker } from '../worker/client';
import { keptKey } from '../worker/kept-results';
import type { MergeSummary } from '../worker/protocol';
import { inspectStore } from './inspect';
import { mergeStore, type KeptResult } from './merge';

/** Puts a result on screen: the viewer stays on its tensor when the result has it, else the largest. */
function show(summary: MergeSummary, inputs: string | undefined): void {
  mergeStore.setState({ result: summary, resultInputs: inputs });
  const inspect = inspectStore.getState();
  const names = new Set(summary.tensors.map((t) => t.name));
  if (!inspect.tensor || !names.has(inspect.tensor)) {
    const largest = [...summary.tensors].sort((a, b) => b.numel - a.numel)[0];
    inspectStore.setState({
      tensor: largest?.name,
      task: 0,
      otherTask: Math.min(1, summary.tasks.length - 1),
    });
  }
}

/**
 * A new result from the worker: kept beside the others (the worker's `dropped` ids leave, and the
 * same method's earlier result), and put on screen. The results let go for the memory budget are
 * named in the notice.
 */
export function keepResult(summary: MergeSummary, inputs: string, dropped: readonly number[] = []): void {
  const gone = new Set(dropped);
  const { kept } = mergeStore.getState();
  const budget = kept.filter((k) => gone.has(k.summary.id) && keptKey(k.summary) !== keptKey(summary));
  mergeStore.setState({
    running: false,
    progress: undefined,
    kept: [
      ...kept.filter((k) => !gone.has(k.summary.id) && keptKey(k.summary) !== keptKey(summary)),
      { summary, inputs },
    ],
    notice: budget.length
      ? {
          kind: 'dropped',
          message: `Let go to stay within the memory budget (the oldest first): ${budget
            .map((k) => describeMethod(k.summary.spec))
            .join('; ')}. Merge it again to bring it back.`,
        }
      : undefined,
  });
  show(summary, inputs);
}

/** The switcher: puts a kept result on screen (a worker that restarted since keeps only its last). */
export async function chooseResult(id: number): Promise<void> {
  const entry: KeptResult | undefined = mergeStore.getState().kept.find((k) => k.summary.id === id);
  if (!entry || mergeStore.getState().running) return;
  const summary = await studioWorker().chooseResult(id);
  if (!summary) {
    mergeStore.setState((s) => ({
      kept: s.kept.filter((k) => k !== entry),
      notice: {
        kind: 'error',
        message: `${describeMethod(entry.summary.spec)} is no longer kept: merge it again.`,
      },
    }));
    return;
  }
  show(summary, entry.inputs);
}
