// The checks a task must pass before it joins a merge, the same in the studio and the CLI: a name
// that can name a file, a PEFT adapter that fits the base, and a fine-tune of this base at all
// (not another model). Then the model set, built from headers alone: a refusal comes before any
// tensor byte is read.
import type { Checkpoint } from '../formats/tensor';
import { buildModelSet, ModelSetError, type ModelSet } from '../merge/model-set';
import { taskNameProblem } from '../merge/task-name';
import type { LoraKernel } from '../peft/kernel';
import { PeftError } from '../peft/lora';
import { withAdapters, type TaskSource } from '../peft/set';

/** A task refused by the checks, with what differs (for the studio's file card). */
export interface TaskRefusal {
  /** The task's index in the list given. */
  readonly index: number;
  readonly message: string;
  readonly differing: readonly string[];
  /** The typed error behind it (a PeftError), thrown as it is where a refusal stops the run. */
  readonly cause?: unknown;
}

/** A task refused: its file (or name) and why. The CLI stops on it; the studio lists it. */
export class TaskRefusedError extends Error {
  override readonly name = 'TaskRefusedError';
  constructor(
    readonly task: string,
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * A task file of another model: it shares no tensor with the base, or more of the tensors both
 * have differ in shape than agree (a head with other classes is one differing tensor, not most).
 */
export function otherModel(
  base: Checkpoint,
  task: Checkpoint,
): { message: string; differing: string[] } | undefined {
  let same = 0;
  const differing: string[] = [];
  for (const [name, e] of task.tensors) {
    const b = base.tensors.get(name);
    if (!b) continue;
    if (b.shape.join() === e.shape.join()) same++;
    else differing.push(`${name}: [${e.shape.join(', ')}] here, [${b.shape.join(', ')}] in the base`);
  }
  if (same === 0 && differing.length === 0) {
    const examples = [...task.tensors.keys()].slice(0, 3);
    return {
      message: `Not a fine-tune of this base: none of its ${task.tensors.size} tensors is in the base (e.g. ${examples.join(', ')}).`,
      differing: examples.map((n) => `${n}: not in the base`),
    };
  }
  if (differing.length > same) {
    return {
      message: `Not a fine-tune of this base: ${differing.length} tensors differ in shape, only ${same} match.`,
      differing,
    };
  }
  return undefined;
}

/** Splits the tasks into those that may join a merge over `base` and those refused, with why. */
export function checkTasks(
  base: Checkpoint,
  tasks: readonly TaskSource[],
): { accepted: TaskSource[]; refused: TaskRefusal[] } {
  const accepted: TaskSource[] = [];
  const refused: TaskRefusal[] = [];
  tasks.forEach((task, index) => {
    // Task names become file, download and zip entry names: one that could escape a folder is refused.
    const badName = taskNameProblem(task.name);
    if (badName) {
      refused.push({ index, message: `Cannot name a file: ${badName}.`, differing: [] });
      return;
    }
    if (task.peft) {
      // An adapter names the base's modules its own way: checked by wrapping it over the base.
      try {
        withAdapters(base, [task]);
        accepted.push(task);
      } catch (e) {
        if (!(e instanceof PeftError)) throw e;
        refused.push({
          index,
          message: `Not an adapter of this base: ${e.problem}`,
          differing: [],
          cause: e,
        });
      }
      return;
    }
    const why = otherModel(base, task.checkpoint);
    if (why) refused.push({ index, ...why });
    else accepted.push(task);
  });
  return { accepted, refused };
}

/** What building a set needs to know of the merge: how many tasks it takes at least (methods.ts's minTasksFor). */
export interface SetOptions {
  readonly minTasks?: number;
}

/** The model set of checked tasks: adapters wrapped over the base (LoRA deltas on `lora`). */
export function taskModelSet(
  base: Checkpoint,
  tasks: readonly TaskSource[],
  lora?: LoraKernel,
  options: SetOptions = {},
): ModelSet {
  const wrapped = withAdapters(base, tasks, lora);
  return buildModelSet(wrapped.base, wrapped.tasks, options);
}

/** Checks every task and builds the set, or throws for the first task refused (the CLI). */
export function checkedModelSet(
  base: Checkpoint,
  tasks: readonly TaskSource[],
  lora?: LoraKernel,
  options: SetOptions = {},
): ModelSet {
  const { refused } = checkTasks(base, tasks);
  const first = refused[0];
  if (first) {
    if (first.cause !== undefined) throw first.cause;
    const task = tasks[first.index] as TaskSource;
    throw new TaskRefusedError(task.name, task.checkpoint.files[0] ?? task.name, first.message);
  }
  return taskModelSet(base, tasks, lora, options);
}

/** Whether an error is a refusal of the set as a whole the user can act on (not a bug). */
export const isSetRefusal = (e: unknown): e is ModelSetError | PeftError =>
  e instanceof ModelSetError || e instanceof PeftError;
