// The merge slice: the method and its parameters, the engine, a running merge's progress, and
// the last finished result (kept while a new merge runs, and after one is cancelled or fails).
import { createStore } from 'zustand/vanilla';
import {
  formProblems,
  formSpec,
  type AnyMethodName,
  type FormProblems,
  type ParamValue,
} from '../../src/merge/method-params';
import type { AnyMethodSpec } from '../../src/merge/methods';
import type { RecipeJob } from '../../src/merge/mergekit/recipe';
import type { EngineKind, MergeSummary, ProgressUpdate } from '../worker/protocol';

export interface MergeState {
  /** A name of the method table (src/merge/method-params.ts). */
  readonly method: AnyMethodName;
  /**
   * The values typed, per method and parameter (numbers in the spec's unit, NaN for an empty field;
   * a per-task list as its text); a value not typed is the table's default. Kept per method, so
   * switching methods and back keeps what was typed.
   */
  readonly params: { readonly [M in AnyMethodName]?: Readonly<Record<string, ParamValue>> };
  /** The user's pick; undefined follows the default (see defaultEngine). */
  readonly engine: EngineKind | undefined;
  readonly running: boolean;
  readonly progress: ProgressUpdate | undefined;
  /** The last merge that did not finish (cancelled or failed), or the results let go, in words. */
  readonly notice: { readonly kind: 'cancelled' | 'error' | 'dropped'; readonly message: string } | undefined;
  /** The result on screen (one of kept). */
  readonly result: MergeSummary | undefined;
  /** The results kept, one per method, oldest first (./kept.ts). */
  readonly kept: readonly KeptResult[];
  /** ui1: what the result was made from (stale.ts mergeInputs), to tell when it is out of date. */
  readonly resultInputs: string | undefined;
  /** An imported mergekit recipe (./recipe.ts): while there, Merge runs it instead of the form. */
  readonly recipe: ImportedRecipe | undefined;
  /** Why the last recipe could not be imported (the parser's words), beside the import control. */
  readonly recipeError: string | undefined;
  /** The kept result the switcher is putting on screen (a spilled one is read back first). */
  readonly switching?: number | undefined;
}

export interface ImportedRecipe {
  /** The file's name, as the parser's messages name it. */
  readonly file: string;
  /** Its text: the export's mergekit_config.yml, verbatim. */
  readonly text: string;
  readonly job: RecipeJob;
}

export interface KeptResult {
  readonly summary: MergeSummary;
  /** What it was made from (stale.ts mergeInputs). */
  readonly inputs: string;
  /** Spilled past the memory budget: on disk, read back when switched to. */
  readonly onDisk?: boolean;
}

export const initialMerge: MergeState = {
  method: 'emr',
  params: {},
  engine: undefined,
  running: false,
  progress: undefined,
  notice: undefined,
  result: undefined,
  kept: [],
  resultInputs: undefined,
  recipe: undefined,
  recipeError: undefined,
};

export const mergeStore = createStore<MergeState>(() => initialMerge);

/** The values typed for the chosen method (the defaults for what was not typed). */
export const valuesOf = (s: Pick<MergeState, 'method' | 'params'>): Readonly<Record<string, ParamValue>> =>
  s.params[s.method] ?? {};

/** Sets one parameter of the chosen method, as typed. */
export function setParam(name: string, value: ParamValue): void {
  mergeStore.setState((s) => ({ params: { ...s.params, [s.method]: { ...valuesOf(s), [name]: value } } }));
}

/** The method spec of the form (by the CLI's parser), or the reason it is not valid. */
export function specOf(s: MergeState): { spec: AnyMethodSpec } | { error: string } {
  try {
    return { spec: formSpec(s.method, valuesOf(s)) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * What is wrong with each parameter the chosen method takes, in the unit the form shows it in
 * (TIES's k as a percentage of |τ| kept), and what only the parameters together get wrong, so the
 * form can say so as the user types.
 */
export function paramErrors(s: MergeState): FormProblems {
  return formProblems(s.method, valuesOf(s));
}

/** Whether Merge must wait for the parameters. */
export function paramsInvalid(s: MergeState): boolean {
  const p = paramErrors(s);
  return Object.keys(p.params).length > 0 || p.method !== undefined;
}

export interface EngineDefault {
  readonly engine: EngineKind;
  readonly reason: string;
}

/**
 * docs/architecture.md#engine-default: the GPU engine on a real adapter; the CPU engine without one
 * or on a software one.
 */
export function defaultEngine(
  gpu:
    | { status: 'probing' }
    | { status: 'ready'; info: { name: string; isSoftware: boolean } }
    | { status: 'unavailable'; reason: string },
): EngineDefault {
  if (gpu.status === 'probing') return { engine: 'cpu', reason: 'Looking for a WebGPU adapter…' };
  if (gpu.status === 'unavailable') return { engine: 'cpu', reason: `No WebGPU adapter: ${gpu.reason}` };
  if (gpu.info.isSoftware)
    return {
      engine: 'cpu',
      reason: `${gpu.info.name} is a software adapter (WebGPU emulated on the CPU), slower than the CPU engine.`,
    };
  return { engine: 'gpu', reason: `${gpu.info.name} runs the merge kernels.` };
}

/** Throughput (bytes/s) and seconds left, from a progress update. */
export function rates(p: ProgressUpdate): { bytesPerSecond: number; secondsLeft: number | undefined } {
  const bytesPerSecond = p.elapsed > 0 ? p.bytesDone / p.elapsed : 0;
  const left = p.bytesTotal - p.bytesDone;
  return { bytesPerSecond, secondsLeft: bytesPerSecond > 0 ? left / bytesPerSecond : undefined };
}
