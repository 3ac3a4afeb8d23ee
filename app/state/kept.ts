// The results the studio keeps, one per method (app/worker/kept-results.ts decides in the worker):
// a finished merge or a restored bundle is added and put on screen, those the worker spilled to
// disk are marked (read back when switched to), those it let go leave with a notice saying why,
// and the switcher puts another kept one on screen for Inspect, Try, Evaluate and Export.
import { describeMethod } from '../../src/merge/methods';
import { studioWorker } from '../worker/client';
import { keptKey } from '../worker/kept-results';
import type { ChooseOutcome, KeptPlaces, MergeSummary } from '../worker/protocol';
import { inspectStore } from './inspect';
import { mergeStore, type KeptResult, type MergeState } from './merge';

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

/** The kept results with the worker's places applied: those let go leave, those spilled are marked. */
function placed(kept: readonly KeptResult[], places: KeptPlaces): KeptResult[] {
  const gone = new Set(places.dropped ?? []);
  const onDisk = places.onDisk && new Set(places.onDisk);
  return kept
    .filter((k) => !gone.has(k.summary.id))
    .map((k) => (onDisk ? { ...k, onDisk: onDisk.has(k.summary.id) } : k));
}

/** What the budget let go (not the same method's replaced result), in words; undefined when none. */
function droppedNotice(gone: readonly KeptResult[], problem: string | undefined): MergeState['notice'] {
  if (!gone.length) return undefined;
  return {
    kind: 'dropped',
    message: `Let go to stay within the memory budget (the oldest first): ${gone
      .map((k) => describeMethod(k.summary.spec))
      .join('; ')}${problem ? ` — not kept on disk: ${problem}` : ''}. Merge it again to bring it back.`,
  };
}

/**
 * A new result from the worker: kept beside the others (the worker's `dropped` ids leave, and the
 * same method's earlier result; its `onDisk` ids are marked spilled), and put on screen. The
 * results let go for the memory budget are named in the notice.
 */
export function keepResult(summary: MergeSummary, inputs: string, places: KeptPlaces = {}): void {
  const gone = new Set(places.dropped ?? []);
  const { kept } = mergeStore.getState();
  const others = kept.filter((k) => keptKey(k.summary) !== keptKey(summary));
  mergeStore.setState({
    running: false,
    progress: undefined,
    kept: [...placed(others, places), { summary, inputs }],
    notice: droppedNotice(
      others.filter((k) => gone.has(k.summary.id)),
      places.spillProblem,
    ),
  });
  show(summary, inputs);
}

/**
 * The switcher: puts a kept result on screen, read back by the worker when it was spilled (others
 * may be spilled to make room). A worker that restarted since keeps only its last.
 */
export async function chooseResult(id: number): Promise<void> {
  const entry: KeptResult | undefined = mergeStore.getState().kept.find((k) => k.summary.id === id);
  if (!entry || mergeStore.getState().running) return;
  mergeStore.setState({ switching: id });
  let outcome: ChooseOutcome;
  try {
    outcome = await studioWorker().chooseResult(id);
  } finally {
    mergeStore.setState({ switching: undefined });
  }
  const { summary } = outcome;
  if (!summary) {
    mergeStore.setState((s) => ({
      kept: placed(
        s.kept.filter((k) => k !== entry),
        outcome,
      ),
      notice: {
        kind: 'error',
        message: `${describeMethod(entry.summary.spec)} is no longer kept${
          outcome.spillProblem ? ` (${outcome.spillProblem})` : ''
        }: merge it again.`,
      },
    }));
    return;
  }
  const gone = new Set(outcome.dropped ?? []);
  mergeStore.setState((s) => ({
    kept: placed(s.kept, outcome),
    notice: droppedNotice(
      s.kept.filter((k) => gone.has(k.summary.id)),
      outcome.spillProblem,
    ),
  }));
  show(summary, entry.inputs);
}
