// The per-task methods' rows of the accuracy table (`eval --methods …,tall_mask,consensus_ta,
// consensus_ties,t_switch,tsv_c`), in the product flow so every surface reads one home. With labeled
// sets at hand the original code picks its hyper-parameters on them, and so does this: TALL masks'
// λ_t per task from {0.2, …, 0.6}, Consensus' α from {0.1, …, 1.0} on the mean normalized accuracy
// (src/merge/pertask/select.ts); a line through `log` (the CLI's stderr) says what won. T-Switch and
// TSV-C have nothing to choose (the drop ratio is fixed by its script; TSV-C's evaluation uses
// scaling 1.0 and sv_reduction 1/N, as the original's).
import type { OnnxCheckpoint } from '../formats/onnx';
import type { EvalMethod } from '../inference/eval-table';
import { accuracy, type LabeledSet } from '../inference/evaluate';
import type { ModelSession } from '../inference/ort';
import { taskOnnx } from '../inference/task-onnx';
import type { MergeEngine } from '../merge/engine';
import type { ModelSet } from '../merge/model-set';
import type { PerTaskResult } from '../merge/pertask/result';
import { runPerTask } from '../merge/pertask/run';
import { chooseConsensusAlpha, chooseTallLambdas, type TaskEvaluator } from '../merge/pertask/select';
import { describePerTask, PERTASK_TITLES, type PerTaskSpec } from '../merge/pertask/spec';
import { taskModel } from '../merge/task-model';

export interface PerTaskEvalInput {
  readonly set: ModelSet;
  readonly engine: MergeEngine;
  readonly labeled: readonly LabeledSet[];
  readonly graphOf: (t: number) => OnnxCheckpoint;
  readonly createSession: (model: Uint8Array) => Promise<ModelSession>;
  readonly signal: AbortSignal;
  /** Where the choices are reported (a line each; the CLI prefixes its name and writes it to stderr). */
  readonly log: (line: string) => void;
}

/** Task t's model under a result as ONNX bytes in its graph. */
function modelOnnx(input: PerTaskEvalInput, result: PerTaskResult, t: number): Promise<Uint8Array> {
  const { set, engine, graphOf } = input;
  return taskOnnx(graphOf(t), taskModel(result, t, engine), set.tasks[t]?.name ?? '', set.base);
}

/** The accuracy of task t's model under a result on task t's labeled set. */
function evaluator(input: PerTaskEvalInput): TaskEvaluator {
  return async (result, t) => {
    input.signal.throwIfAborted();
    const session = await input.createSession(await modelOnnx(input, result, t));
    try {
      return (await accuracy(session, input.labeled[t] as LabeledSet, { signal: input.signal })).accuracy;
    } finally {
      await session.release();
    }
  };
}

/** The result a per-task method's row evaluates, its hyper-parameters chosen on the labeled sets. */
async function chosenResult(spec: PerTaskSpec, input: PerTaskEvalInput): Promise<PerTaskResult> {
  const { set, signal, log } = input;
  const names = set.tasks.map((t) => t.name);
  const method = spec.method;
  const evaluate = evaluator(input);
  if (spec.method === 'tall_mask') {
    const choice = await chooseTallLambdas(set, spec, evaluate, { signal });
    log(
      `${method}: λ_t chosen on the labeled sets from {${choice.grid.join(', ')}}: ${names
        .map((n, t) => `${n} ${choice.chosen[t]}`)
        .join(', ')}`,
    );
    return choice.result;
  }
  // T-Switch and TSV-C have nothing to choose (drop ratio and sv_reduction are fixed by their code).
  if (spec.method === 't_switch' || spec.method === 'tsv_c') return runPerTask(set, spec, { signal });
  // Consensus counts the TALL masks the original selected on validation: choose their λ_t first.
  const tallBase = spec.method === 'consensus_ties' ? 'ties' : 'task_arithmetic';
  const tall = await chooseTallLambdas(set, { method: 'tall_mask', tallBase, lambda: 1 }, evaluate, {
    signal,
  });
  log(`${method}: its TALL masks' λ_t chosen on the labeled sets: ${tall.chosen.join(', ')}`);
  const result = await runPerTask(set, { ...spec, tallLambda: tall.chosen }, { signal });
  // find_optimal_coef's metric: the mean of each task's accuracy over its individual model's.
  const individual: number[] = [];
  for (let t = 0; t < set.tasks.length; t++) {
    const session = await input.createSession(
      await taskOnnx(
        input.graphOf(t),
        [...(set.tasks[t]?.checkpoint.tensors.values() ?? [])],
        names[t] ?? '',
        set.base,
      ),
    );
    try {
      individual.push((await accuracy(session, input.labeled[t] as LabeledSet, { signal })).accuracy);
    } finally {
      await session.release();
    }
  }
  const choice = await chooseConsensusAlpha(result, async (r, t) => {
    const a = await evaluate(r, t);
    return (individual[t] as number) > 0 ? a / (individual[t] as number) : a;
  });
  log(`${method}: α chosen on the labeled sets from {0.1, …, 1}: ${choice.alpha}`);
  return choice.result;
}

/** One row per per-task method; the choice runs once, when the row's first model is asked for. */
export function perTaskEvalMethods(specs: readonly PerTaskSpec[], input: PerTaskEvalInput): EvalMethod[] {
  return specs.map((spec) => {
    const method = spec.method;
    let result: Promise<PerTaskResult> | undefined;
    const title = describePerTask(spec);
    return {
      label:
        method === 't_switch' || method === 'tsv_c'
          ? title
          : title.replace(/ \(.*\)$/, ' (chosen on the labeled sets)'),
      emr: false,
      // One model per task: routed like EMR's, each input to the task whose model is most confident.
      ...(method === 'tall_mask' || method === 't_switch' || method === 'tsv_c'
        ? { routedLabel: `${PERTASK_TITLES[method]}, routed (no task id)` }
        : {}),
      model: async (t) => modelOnnx(input, await (result ??= chosenResult(spec, input)), t),
    };
  });
}
