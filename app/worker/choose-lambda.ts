// "Choose λ on the labeled sets" in the studio worker (issue #20): for a kept TALL masks or
// Consensus result merged with λ_t / α at their defaults, the choice the original code makes on
// validation data, run by the CLI's own flow (src/flow/pertask-eval.ts choosePerTask) on the
// Evaluate step's labeled sets, graphs and onnxruntime-web sessions (./inference.ts). A value the
// user set is kept ("as set"). The chosen result stands in for the kept one (./chosen-results.ts).
import type { OnnxCheckpoint } from '../../src/formats/onnx';
import type { LabeledSet } from '../../src/inference/evaluate';
import type { ModelSession } from '../../src/inference/ort';
import { choosable, choiceRuns, choosePerTask, type PerTaskChoice } from '../../src/flow/pertask-eval';
import type { AnyMethodSpec } from '../../src/merge/methods';
import { isPerTaskResult, type PerTaskResult } from '../../src/merge/pertask/result';
import { isPerTaskSpec } from '../../src/merge/pertask/spec';
import { mergeSummary } from '../../src/flow/summary';
import type { AnyMergeResult } from '../../src/merge/merge';
import type { ExecutionProvider } from '../../src/inference/ort';
import { CancellableJob } from './cancellable';
import type { LambdaOutcome, LambdaProgress, LambdaRequest, ChosenResult } from './choose-protocol';
import { ChosenResults } from './chosen-results';
import type { Held } from './merging';
import { PROGRESS_EVERY_MS } from './merging';
import type { ModelFolders } from './model-folders';
import type { MergeSummary } from './protocol';

/** What the choice runs on: the Evaluate step's labeled sets, graphs and sessions. */
export interface ChoiceInputs {
  readonly labeled: readonly LabeledSet[];
  readonly graphOf: (t: number) => OnnxCheckpoint;
  readonly createSession: (model: Uint8Array) => Promise<ModelSession>;
}

/**
 * What the labeled sets would choose for a result: TALL masks' λ_t and/or Consensus' α, those at
 * their defaults; undefined for a method with nothing to choose, or when both are set.
 */
export function choiceFor(spec: AnyMethodSpec): { tallLambda: boolean; alpha: boolean } | undefined {
  if (!isPerTaskSpec(spec)) return undefined;
  const what = choosable(spec);
  return what.tallLambda || what.alpha ? what : undefined;
}

/** Whether a kept result can be chosen for: merged here (its task files at hand), with something left to choose. */
export function canChoose(h: Held): boolean {
  return h.summary.source === 'merge' && isPerTaskResult(h.result) && choiceFor(h.result.spec) !== undefined;
}

/** How many task models choosing for these results scores, all together. */
export function choiceTotal(results: readonly Held[]): number {
  return results.reduce((a, h) => {
    const what = choiceFor(h.result.spec);
    return (
      a +
      (what && isPerTaskSpec(h.result.spec) ? choiceRuns(h.result.spec, what, h.result.set.tasks.length) : 0)
    );
  }, 0);
}

/** Chooses for one kept result; `onProgress` counts its task models scored. */
export function chooseFor(
  h: Held,
  inputs: ChoiceInputs,
  signal: AbortSignal,
  onProgress: (done: number) => void,
): Promise<PerTaskChoice> {
  const result = h.result as PerTaskResult;
  return choosePerTask(result.spec, {
    set: result.set,
    engine: h.engine,
    labeled: inputs.labeled,
    graphOf: inputs.graphOf,
    createSession: inputs.createSession,
    signal,
    onProgress: (done) => onProgress(done),
  });
}

/** What choosing needs of the service: the kept results, the graphs and sets, the model folders. */
export interface ChooserHost {
  /** The kept results in memory, the one on screen first (the merge host's, not the chosen ones). */
  kept(): Held[];
  /** The result on screen as the rooms read it (a chosen one in place of its kept one). */
  screen(): Held | undefined;
  inputs(screen: Held, provider: ExecutionProvider): ChoiceInputs | string;
  shardBytes(): number;
  readonly folders: ModelFolders;
  dropSessions(): Promise<void>;
}

/** The studio's "Choose λ on labeled sets": one run at a time, cancellable. */
export class LambdaChooser {
  readonly chosen = new ChosenResults();
  private readonly job = new CancellableJob();

  constructor(private readonly host: ChooserHost) {}

  /** Chooses for the kept results asked for; the chosen ones stand in for them once every one is chosen. */
  async run(req: LambdaRequest, onProgress: (p: LambdaProgress) => void): Promise<LambdaOutcome> {
    const screen = this.host.screen();
    if (!screen) return { ok: false, cancelled: false, message: 'Merge first.' };
    const kept = this.host.kept();
    const names = (h: Held) => h.result.set.tasks.map((t) => t.name).join('\n');
    const targets: Held[] = [];
    for (const id of req.ids) {
      // (a result chosen once is not chosen again: its α may have come out at the default)
      const h = kept.find((k) => k.summary.id === this.chosen.keptId(id));
      if (!h || this.chosen.read(h) !== h || !canChoose(h) || names(h) !== names(screen))
        return {
          ok: false,
          cancelled: false,
          message: 'That result has nothing left to choose: merge it again.',
        };
      targets.push(h);
    }
    const inputs = this.host.inputs(screen, req.provider);
    if (typeof inputs === 'string') return { ok: false, cancelled: false, message: inputs };
    const total = choiceTotal(targets);
    let lastSent = 0;
    return this.job.run(async (signal) => {
      const made: { kept: Held; held: Held; chosen: ChosenResult }[] = [];
      let before = 0;
      for (const h of targets) {
        const choice = await chooseFor(h, inputs, signal, (done) => {
          const now = performance.now();
          if (now - lastSent < PROGRESS_EVERY_MS && before + done < total) return;
          lastSent = now;
          void Promise.resolve(onProgress({ done: before + done, total, id: h.summary.id })).catch(() => {});
        });
        before += choiceTotal([h]);
        const summary = await chosenSummary(h, choice.result, this.chosen.newId(), this.host.shardBytes());
        this.host.folders.carryChosen(h.result, choice.result);
        made.push({
          kept: h,
          held: { result: choice.result, engine: h.engine, summary },
          chosen: {
            replaces: this.chosen.pageId(h.summary.id),
            summary,
            lines: choice.lines,
            ...(choice.tallLambda ? { tallLambda: choice.tallLambda } : {}),
            ...(choice.alpha ? { alpha: choice.alpha } : {}),
          },
        });
      }
      for (const m of made) this.chosen.set(m.kept.summary.id, m.held);
      await this.host.dropSessions();
      return { ok: true as const, chosen: made.map((m) => m.chosen) };
    }, 'Choosing λ cancelled; the kept results are as they were.');
  }

  cancel(): void {
    this.job.cancel();
  }
}

/** The summary of a result chosen for a kept one: its own numbers, the kept one's engine, time and files. */
async function chosenSummary(
  kept: Held,
  result: AnyMergeResult,
  id: number,
  shardBytes: number,
): Promise<MergeSummary> {
  const { engine, seconds, storage } = kept.summary;
  const summary = await mergeSummary(result, {
    id,
    engine,
    seconds,
    source: 'merge',
    shardBytes,
    ...(storage.adapterBytes === undefined ? {} : { adapterBytes: storage.adapterBytes }),
  });
  return {
    ...summary,
    tasks: summary.tasks.map((s, t) => (kept.summary.tasks[t]?.folder ? { ...s, folder: true } : s)),
  };
}
