// "Choose λ on the labeled sets" on the page (the Evaluate step): which kept TALL masks / Consensus
// results have a λ_t or α left at its default, the choice running in the worker
// (app/worker/choose-lambda.ts, the CLI's own flow) with its progress and Cancel, and what won for
// each result chosen. A chosen result replaces the kept one of its method through ./kept.ts, so
// Inspect, Try, Evaluate and Export read it.
import { proxy } from 'comlink';
import { createStore } from 'zustand/vanilla';
import { choiceFor } from '../worker/choose-lambda';
import type { ChosenResult } from '../worker/choose-protocol';
import { studioWorker } from '../worker/client';
import type { MergeSummary } from '../worker/protocol';
import { inferStore } from './infer';
import { chooseResult, keepResult } from './kept';
import { mergeStore, type KeptResult } from './merge';
import { currentProvider } from './provider';

export interface ChooseState {
  readonly running: boolean;
  /** Task models scored of all; `at` (ms, Date.now) when counted, for the time estimate. */
  readonly progress: { readonly done: number; readonly total: number; readonly at: number } | undefined;
  readonly startedAt: number | undefined;
  /** Why the last choice did not finish (cancelled, or its error). */
  readonly message: string | undefined;
  /** What won, by the chosen result's summary id. */
  readonly chosen: Readonly<Record<number, Omit<ChosenResult, 'summary' | 'replaces'>>>;
}

export const initialChoose: ChooseState = {
  running: false,
  progress: undefined,
  startedAt: undefined,
  message: undefined,
  chosen: {},
};

export const chooseStore = createStore<ChooseState>(() => initialChoose);

const taskNames = (s: MergeSummary) => s.tasks.map((t) => t.name).join('\n');

/**
 * The kept results whose λ the labeled sets can choose: TALL masks / Consensus merged here with λ_t
 * or α at its default, over the same tasks as the result on screen (whose graphs and sets run them).
 */
export function choosableResults(
  kept: readonly KeptResult[],
  screen: MergeSummary | undefined,
  chosen: ChooseState['chosen'] = chooseStore.getState().chosen,
): KeptResult[] {
  if (!screen) return [];
  // A result chosen once is not chosen again (its α may have come out at the default).
  return kept.filter(
    (k) =>
      k.summary.source === 'merge' &&
      !(k.summary.id in chosen) &&
      choiceFor(k.summary.spec) !== undefined &&
      taskNames(k.summary) === taskNames(screen),
  );
}

/** Runs the choice for every choosable kept result; each chosen one replaces its kept one. */
export async function startChoosing(): Promise<void> {
  const { kept, result: screen } = mergeStore.getState();
  const targets = choosableResults(kept, screen);
  if (!screen || !targets.length || chooseStore.getState().running) return;
  chooseStore.setState({ running: true, progress: undefined, message: undefined, startedAt: Date.now() });
  const outcome = await studioWorker()
    .chooseLambdas(
      { ids: targets.map((k) => k.summary.id), provider: currentProvider(inferStore.getState().provider) },
      proxy(({ done, total }) => {
        if (chooseStore.getState().running)
          chooseStore.setState({ progress: { done, total, at: Date.now() } });
      }),
    )
    .catch((e: unknown) => ({
      ok: false as const,
      cancelled: false,
      message: e instanceof Error ? e.message : String(e),
    }));
  if (!chooseStore.getState().running) return; // cancelled on the page, which already says so
  if (!outcome.ok) {
    chooseStore.setState({ running: false, progress: undefined, message: outcome.message });
    return;
  }
  // Each chosen result in place of its kept one (keepResult puts it on screen), then the one that
  // was on screen (or its chosen one) back on screen.
  const chosen = { ...chooseStore.getState().chosen };
  for (const c of outcome.chosen) {
    // (a result merged again meanwhile is the user's newer one: it stays)
    const entry = mergeStore.getState().kept.find((k) => k.summary.id === c.replaces);
    if (!entry) continue;
    keepResult(c.summary, entry.inputs);
    const { lines, tallLambda, alpha } = c;
    chosen[c.summary.id] = { lines, ...(tallLambda ? { tallLambda } : {}), ...(alpha ? { alpha } : {}) };
  }
  chooseStore.setState({ running: false, progress: undefined, chosen });
  const back = outcome.chosen.find((c) => c.replaces === screen.id)?.summary.id ?? screen.id;
  if (mergeStore.getState().result?.id !== back) await chooseResult(back);
}

/** Stops at once on the page (the worker at its next model); the kept results stay as they were. */
export async function cancelChoosing(): Promise<void> {
  if (!chooseStore.getState().running) return;
  chooseStore.setState({
    running: false,
    progress: undefined,
    message: 'Choosing λ cancelled: the kept results are as they were.',
  });
  await studioWorker().cancelChoose();
}
