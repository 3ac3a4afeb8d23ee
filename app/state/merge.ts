// The merge slice: the method and its parameters, the engine, a running merge's progress, and
// the last finished result (kept while a new merge runs, and after one is cancelled or fails).
import { createStore } from 'zustand/vanilla';
import { methodSpec, type MethodName, type MethodSpec, type RescaleMode } from '../../src/merge/methods';
import type { EngineKind, MergeSummary, ProgressUpdate } from '../worker/protocol';

export interface MergeState {
  readonly method: MethodName;
  readonly taLambda: number;
  readonly tiesLambda: number;
  readonly tiesK: number;
  readonly rescale: RescaleMode;
  /** The user's pick; undefined follows the default (see defaultEngine). */
  readonly engine: EngineKind | undefined;
  readonly running: boolean;
  readonly progress: ProgressUpdate | undefined;
  /** The last merge that did not finish, in words (cancelled or failed). */
  readonly notice: { readonly kind: 'cancelled' | 'error'; readonly message: string } | undefined;
  readonly result: MergeSummary | undefined;
  /** ui1: what the result was made from (stale.ts mergeInputs), to tell when it is out of date. */
  readonly resultInputs: string | undefined;
}

export const initialMerge: MergeState = {
  method: 'emr',
  taLambda: 0.3,
  tiesLambda: 1,
  tiesK: 0.2,
  rescale: 'tensor-mean',
  engine: undefined,
  running: false,
  progress: undefined,
  notice: undefined,
  result: undefined,
  resultInputs: undefined,
};

export const mergeStore = createStore<MergeState>(() => initialMerge);

/** The method spec of the form, or the reason it is not valid. */
export function specOf(s: MergeState): { spec: MethodSpec } | { error: string } {
  try {
    switch (s.method) {
      case 'emr':
        return { spec: methodSpec('emr', { rescale: s.rescale }) };
      case 'avg':
        return { spec: methodSpec('avg') };
      case 'ta':
        return { spec: methodSpec('ta', { lambda: s.taLambda }) };
      case 'ties':
        return { spec: methodSpec('ties', { k: s.tiesK, lambda: s.tiesLambda }) };
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The method form's number fields. */
export type ParamField = 'taLambda' | 'tiesK' | 'tiesLambda';

/**
 * What is wrong with each parameter the chosen method takes, in the unit the form shows it in
 * (TIES's k as a percentage of |τ| kept), so the form can say so as the user types.
 */
export function paramErrors(s: MergeState): Partial<Record<ParamField, string>> {
  const out: Partial<Record<ParamField, string>> = {};
  const lambda = (x: number) =>
    Number.isNaN(x)
      ? 'Enter a number for λ.'
      : !(x > 0 && Number.isFinite(x))
        ? 'λ must be above 0.'
        : undefined;
  const put = (field: ParamField, error: string | undefined) => {
    if (error) out[field] = error;
  };
  if (s.method === 'ta') put('taLambda', lambda(s.taLambda));
  if (s.method === 'ties') {
    put(
      'tiesK',
      Number.isNaN(s.tiesK)
        ? 'Enter the share of |τ| to keep, in %.'
        : !(s.tiesK > 0 && s.tiesK <= 1)
          ? 'k must be above 0 % and at most 100 %.'
          : undefined,
    );
    put('tiesLambda', lambda(s.tiesLambda));
  }
  return out;
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
