// ui1: results that outlive their inputs are marked out of date. A result records what it was
// computed from; the views compare that with what the inputs are now.
import type { EvalReport } from '../../src/inference/eval-table';
import type { InferenceSetup, MergeSummary } from '../worker/protocol';
import { selectionOf, type FilesState } from './files';
import { specOf, type MergeState } from './merge';
import { recipePlan } from './recipe';

/**
 * What a merge is made of: the base, the tasks (by card, with their names) and, for a merge (not a
 * bundle, which carries its own method), the method's parameters — or the imported recipe's text
 * and the models it found.
 */
export function mergeInputs(files: FilesState, merge: MergeState, source: 'merge' | 'bundle'): string {
  if (source === 'merge' && merge.recipe) {
    const plan = recipePlan(files, merge.recipe);
    return JSON.stringify({ recipe: 'error' in plan ? plan : plan.selection });
  }
  const selection = selectionOf(files);
  const spec = source === 'merge' ? specOf(merge) : undefined;
  return JSON.stringify({ selection: selection ?? null, spec: spec ?? null });
}

/** The result on screen no longer matches the files, task names or method form. */
export function mergeStale(files: FilesState, merge: MergeState): boolean {
  const { result, resultInputs } = merge;
  if (!result || resultInputs === undefined) return false;
  return mergeInputs(files, merge, result.source) !== resultInputs;
}

/** What an evaluation is made of: the merge result, each task's graph and set, the tokenizer. */
export function evalInputs(result: MergeSummary | undefined, setup: InferenceSetup | undefined): string {
  return JSON.stringify({
    result: result?.id ?? null,
    tasks: setup?.tasks.map((t) => [
      t.name,
      t.graph?.file ?? null,
      t.labeled?.file ?? null,
      t.labeled?.count ?? null,
    ]),
    tokenizer: setup?.tokenizer?.file ?? null,
  });
}

/** Why an evaluation report is out of date, or undefined when it is not. */
export function evalStaleness(
  report: EvalReport | undefined,
  recorded: string | undefined,
  now: { readonly merge: boolean; readonly inputs: string },
): 'merge again' | 'evaluate again' | undefined {
  if (!report || recorded === undefined) return undefined;
  if (now.merge) return 'merge again';
  return recorded === now.inputs ? undefined : 'evaluate again';
}
