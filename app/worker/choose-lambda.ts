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
import type { Held } from './merging';

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
