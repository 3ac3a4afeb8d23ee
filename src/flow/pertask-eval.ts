// The per-task methods' rows of the accuracy table (`eval --methods …,tall_mask,consensus_ta,
// consensus_ties,t_switch,tsv_c`), in the product flow so every surface reads one home. With labeled
// sets at hand the original code picks its hyper-parameters on them, and so does this: TALL masks'
// λ_t per task from {0.2, …, 0.6}, Consensus' α from {0.1, …, 1.0} on the mean normalized accuracy
// (src/merge/pertask/select.ts); a line through `log` (the CLI's stderr) says what won. The choice
// itself is choosePerTask, which the studio's Evaluate step runs too ("Choose λ on the labeled sets",
// app/worker/choose-lambda.ts), keeping a value the user set ("as set"). T-Switch and
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
import {
  chooseConsensusAlpha,
  chooseTallLambdas,
  CONSENSUS_ALPHA_GRID,
  type TaskEvaluator,
} from '../merge/pertask/select';
import {
  DEFAULT_CONSENSUS_LAMBDA,
  DEFAULT_TALL_LAMBDA,
  describePerTask,
  PERTASK_TITLES,
  TALL_LAMBDA_GRID,
  type PerTaskSpec,
} from '../merge/pertask/spec';
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
function modelOnnx(input: ChooseInput, result: PerTaskResult, t: number): Promise<Uint8Array> {
  const { set, engine, graphOf } = input;
  return taskOnnx(graphOf(t), taskModel(result, t, engine), set.tasks[t]?.name ?? '', set.base);
}

/** The accuracy of task t's model under a result on task t's labeled set. */
function evaluator(input: ChooseInput): TaskEvaluator {
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

/** What a spec leaves to the labeled sets: the values at their defaults are chosen, others kept "as set". */
export interface Choosable {
  /** TALL masks' λ_t (tall_mask's `lambda`, Consensus' `tall_lambda`). */
  readonly tallLambda: boolean;
  /** Consensus' α (its `lambda`). */
  readonly alpha: boolean;
}

/**
 * Which hyper-parameters of a spec are chosen on the labeled sets: those left at their defaults (one
 * λ_t of DEFAULT_TALL_LAMBDA, α of DEFAULT_CONSENSUS_LAMBDA). The studio's form hands a parameter
 * on only when it differs from its default (src/merge/method-params.ts specParams), as the CLI's
 * flags do, so a value at its default is one the user did not set.
 */
export function choosable(spec: PerTaskSpec): Choosable {
  if (spec.method === 'tall_mask') return { tallLambda: spec.lambda === DEFAULT_TALL_LAMBDA, alpha: false };
  if (spec.method === 'consensus_ta' || spec.method === 'consensus_ties')
    return {
      tallLambda: spec.tallLambda === DEFAULT_TALL_LAMBDA,
      alpha: spec.lambda === DEFAULT_CONSENSUS_LAMBDA,
    };
  return { tallLambda: false, alpha: false };
}

/** A per-task result with its hyper-parameters chosen on the labeled sets, and what won. */
export interface PerTaskChoice {
  readonly result: PerTaskResult;
  /** TALL masks' λ_t per task and the grid searched; undefined when set (or none to choose). */
  readonly tallLambda?: { readonly grid: readonly number[]; readonly chosen: readonly number[] };
  /** Consensus' α and the grid searched; undefined when set (or none to choose). */
  readonly alpha?: { readonly grid: readonly number[]; readonly chosen: number };
  /** What won, in words: a line per choice (the CLI's stderr, the studio's Evaluate step). */
  readonly lines: readonly string[];
}

export interface ChooseInput extends Omit<PerTaskEvalInput, 'log'> {
  /** Task models scored so far of all the choice scores (each on a whole labeled set). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** How many task models a choice scores: its grids times the tasks, and Consensus' individual models. */
export function choiceRuns(spec: PerTaskSpec, what: Choosable, numTasks: number): number {
  const consensus = spec.method === 'consensus_ta' || spec.method === 'consensus_ties';
  return (
    numTasks *
    ((what.tallLambda ? TALL_LAMBDA_GRID.length : 0) +
      (consensus && what.alpha ? 1 + CONSENSUS_ALPHA_GRID.length : 0))
  );
}

/**
 * The original code's choices on validation data, made on the labeled sets for what `what` leaves
 * open: TALL masks' λ_t per task; Consensus' TALL masks' λ_t first, then α on the mean normalized
 * accuracy. The one home of the choice: the CLI's eval rows and the studio's "Choose λ" run it.
 */
export async function choosePerTask(
  spec: PerTaskSpec,
  input: ChooseInput,
  what: Choosable = choosable(spec),
): Promise<PerTaskChoice> {
  const { set, signal } = input;
  const names = set.tasks.map((t) => t.name);
  const method = spec.method;
  const total = choiceRuns(spec, what, names.length);
  let done = 0;
  const tick = () => input.onProgress?.(++done, total);
  const scored = evaluator(input);
  const evaluate: TaskEvaluator = async (r, t) => {
    const a = await scored(r, t);
    tick();
    return a;
  };
  if (spec.method === 'tall_mask') {
    if (!what.tallLambda) return { result: await runPerTask(set, spec, { signal }), lines: [] };
    const choice = await chooseTallLambdas(set, spec, evaluate, { signal });
    const line = `${method}: λ_t chosen on the labeled sets from {${choice.grid.join(', ')}}: ${names
      .map((n, t) => `${n} ${choice.chosen[t]}`)
      .join(', ')}`;
    return { result: choice.result, tallLambda: { grid: choice.grid, chosen: choice.chosen }, lines: [line] };
  }
  // T-Switch and TSV-C have nothing to choose (drop ratio and sv_reduction are fixed by their code).
  if (spec.method === 't_switch' || spec.method === 'tsv_c')
    return { result: await runPerTask(set, spec, { signal }), lines: [] };
  const lines: string[] = [];
  let tallLambda: PerTaskChoice['tallLambda'];
  let consensus = spec;
  if (what.tallLambda) {
    // Consensus counts the TALL masks the original selected on validation: choose their λ_t first.
    const tallBase = spec.method === 'consensus_ties' ? 'ties' : 'task_arithmetic';
    const tall = await chooseTallLambdas(set, { method: 'tall_mask', tallBase, lambda: 1 }, evaluate, {
      signal,
    });
    lines.push(`${method}: its TALL masks' λ_t chosen on the labeled sets: ${tall.chosen.join(', ')}`);
    tallLambda = { grid: tall.grid, chosen: tall.chosen };
    consensus = { ...spec, tallLambda: tall.chosen };
  }
  const result = await runPerTask(set, consensus, { signal });
  if (!what.alpha) return { result, ...(tallLambda ? { tallLambda } : {}), lines };
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
    tick();
  }
  const choice = await chooseConsensusAlpha(result, async (r, t) => {
    const a = await evaluate(r, t);
    return (individual[t] as number) > 0 ? a / (individual[t] as number) : a;
  });
  lines.push(`${method}: α chosen on the labeled sets from {0.1, …, 1}: ${choice.alpha}`);
  return {
    result: choice.result,
    ...(tallLambda ? { tallLambda } : {}),
    alpha: { grid: CONSENSUS_ALPHA_GRID, chosen: choice.alpha },
    lines,
  };
}

/** The result a per-task method's row evaluates: the CLI takes no λ_t or α for these, so both are chosen. */
async function chosenResult(spec: PerTaskSpec, input: PerTaskEvalInput): Promise<PerTaskResult> {
  const choice = await choosePerTask(spec, input, { tallLambda: true, alpha: true });
  choice.lines.forEach((line) => input.log(line));
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
