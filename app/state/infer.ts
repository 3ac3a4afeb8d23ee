// The inference slice: which graphs and labeled sets run each task (from the worker), the input on
// the bench (a labeled sample, a drawing, an image, a tensor file), the outputs of every column for
// it, and the evaluation table with its progress.
import { createStore } from 'zustand/vanilla';
import type { ExecutionProvider } from '../../src/inference/ort';
import type { EvalReport } from '../../src/inference/eval-table';
import type { ZooManifest } from '../load/demo';
import type { Feed } from '../../src/inference/ort';
import {
  preprocessingFromManifest,
  preprocessingFromShape,
  type Preprocessing,
} from '../../src/inference/image';
import type { Column, InferenceSetup, InferOutcome, TextInput } from '../worker/protocol';

/** ui1: where one labeled set went (or why it was refused), when several are given at once. */
export interface AttachLine {
  readonly ok: boolean;
  readonly text: string;
}

export type InputSource = 'sample' | 'text' | 'draw' | 'image' | 'tensor';

export interface BenchInput {
  /** The float input (an image, a tensor) for a graph that takes one. */
  readonly input?: Float32Array;
  readonly dims?: readonly number[];
  /** The text (and pair) for a graph that takes text. */
  readonly text?: TextInput;
  /** Every graph input by name: a sample of a set with one tensor per input. */
  readonly feeds?: readonly Feed[];
  /** Where it came from, in words ("sample 12 of plain (label 3)", "drawing", "cat.png"). */
  readonly caption: string;
  /** The true class when known (a labeled sample). */
  readonly label?: number;
  /** The labeled sample's set and index, for stepping through it. */
  readonly sample?: { readonly task: string; readonly index: number; readonly count: number };
}

export interface InferState {
  readonly setup: InferenceSetup | undefined;
  /** The zoo's manifest when the demo is loaded: class names and preprocessing. */
  readonly manifest: ZooManifest | undefined;
  /** The user's pick; undefined follows the adapter (./provider.ts defaultProvider). */
  readonly provider: ExecutionProvider | undefined;
  /** A task index, or 'auto' (route by confidence). */
  readonly task: number | 'auto';
  readonly source: InputSource;
  readonly input: BenchInput | undefined;
  readonly running: boolean;
  readonly outcome: InferOutcome | undefined;
  /** ui1: the input and input mode the outcome was run on (outputs of another one are out of date). */
  readonly outcomeFor: { readonly input: BenchInput; readonly source: InputSource } | undefined;
  /** ui1: the text box was edited since the text on the bench ran. */
  readonly textEdited: boolean;
  /** Attaching files, or why it failed; for sets matched to tasks by name, a line per set. */
  readonly attachMessage:
    { readonly ok: boolean; readonly text: string; readonly lines?: readonly AttachLine[] } | undefined;
  readonly evaluation: {
    /** The columns the user unticked: every other column the setup offers is evaluated. */
    readonly off: readonly Column[];
    readonly routed: boolean;
    readonly running: boolean;
    /** Model runs done of all; `at` (ms, Date.now) when the count was taken, for the time estimate. */
    readonly progress: { readonly done: number; readonly total: number; readonly at?: number } | undefined;
    readonly report: EvalReport | undefined;
    readonly message: string | undefined;
    /** ui1: when the running evaluation started (ms, Date.now), for its time estimate. */
    readonly startedAt?: number;
    /** ui1: methods (rows) finished of those asked for, while it runs. */
    readonly methods?: { readonly done: number; readonly total: number };
    /** ui1: the report holds only the methods finished before a cancel. */
    readonly partial?: boolean;
    /** ui1: what the report was computed from (evalInputs): another value means out of date. */
    readonly inputs?: string;
  };
}

export const initialInfer: InferState = {
  setup: undefined,
  manifest: undefined,
  provider: undefined,
  task: 0,
  source: 'sample',
  input: undefined,
  running: false,
  outcome: undefined,
  outcomeFor: undefined,
  textEdited: false,
  attachMessage: undefined,
  evaluation: {
    off: [],
    routed: true,
    running: false,
    progress: undefined,
    report: undefined,
    message: undefined,
  },
};

export const inferStore = createStore<InferState>(() => initialInfer);

/** Class names of a task when a manifest knows them. */
export function classNames(state: Pick<InferState, 'manifest'>, task: string): readonly string[] | undefined {
  const entry = state.manifest?.tasks.find((t) => t.id === task) as
    { classes?: readonly string[] } | undefined;
  return entry?.classes;
}

/**
 * How an image becomes a task's float input: as the demo's manifest says for its image input (its
 * `input`, or the image one of its `inputs`), else from the graph's input shape.
 */
export function imagePreset(
  state: Pick<InferState, 'manifest'>,
  task: string,
  shape: readonly (number | string | null)[] | null,
): Preprocessing {
  const m = state.manifest;
  const single = m?.input && !('kind' in m.input && m.input.kind === 'text') ? m.input : undefined;
  const image = single ?? m?.inputs?.find((i) => i.kind === 'image');
  return image ? preprocessingFromManifest({ input: image }, task) : preprocessingFromShape(shape);
}

/**
 * ui1: seconds left of an evaluation, from the rate of its model runs so far; undefined before
 * the first runs are counted (no rate yet).
 */
export function secondsLeft(
  progress: { readonly done: number; readonly total: number } | undefined,
  startedAt: number | undefined,
  now: number,
): number | undefined {
  if (!progress || startedAt === undefined || progress.done <= 0 || now <= startedAt) return undefined;
  const perRun = (now - startedAt) / 1000 / progress.done;
  return Math.max(0, progress.total - progress.done) * perRun;
}
