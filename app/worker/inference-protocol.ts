// The inference and evaluation views' half of the page↔worker protocol (./protocol.ts re-exports
// it): columns, the per-task setup, inputs, outputs and the evaluation's request and report.
import type { MethodSpec } from '../../src/merge/methods';
import type { EvalReport } from '../../src/inference/eval-table';
import type { ExecutionProvider, Feed } from '../../src/inference/ort';

/** A column of the inference and evaluation views: the individual fine-tune, or a merge method. */
/** Individual, the paper's four, `merged` (the held result of another method), or another kept result. */
export type Column = 'individual' | MethodSpec['method'] | 'merged' | `kept:${number}`;

export interface InferenceTaskSetup {
  readonly name: string;
  /** The ONNX graph that runs this task: its own .onnx, or one the user gave. */
  readonly graph: { readonly file: string; readonly own: boolean } | null;
  /** Why the graph cannot run this task's weights (unmatched names, other shapes). */
  readonly graphProblem: string | null;
  /** Weights the graph has no initializer for. */
  readonly unusedWeights: readonly string[];
  /** The graph's first input. */
  readonly input: {
    readonly name: string;
    readonly shape: readonly (number | string | null)[] | null;
    readonly elemType: string | null;
  } | null;
  readonly labeled: {
    readonly file: string;
    readonly count: number;
    /** The float input's sample shape ([] for a set of texts or of several inputs). */
    readonly sampleShape: readonly number[];
    /** 'tensor': float samples; 'text': texts (JSONL / CSV); 'feeds': one tensor per graph input. */
    readonly kind: 'tensor' | 'text' | 'feeds';
    /** A set of text pairs. */
    readonly pair: boolean;
  } | null;
  /** The graph's text inputs (int64 token ids, mask) and the length texts are brought to. */
  readonly text: {
    readonly ids: string;
    readonly mask: string | null;
    readonly typeIds: string | null;
    readonly maxLength: number;
  } | null;
  /** The graph's float input besides text inputs (an image), for a multi-modal graph. */
  readonly floatInput: string | null;
}

/** The tokenizer attached to the model set, or why it cannot be used. */
export interface TokenizerSetup {
  readonly file: string;
  readonly config: string | null;
  readonly modelMaxLength: number | null;
}

export interface InferenceSetup {
  /** The merge result this applies to. */
  readonly heldId: number;
  readonly columns: readonly { readonly column: Column; readonly label: string }[];
  readonly tasks: readonly InferenceTaskSetup[];
  readonly tokenizer: TokenizerSetup | null;
}

/** A text and, for a pair task, its second text. */
export interface TextInput {
  readonly text: string;
  readonly pair: string | null;
}

/** The sequence length and input names of the tokenizer's output (the demo's manifest gives them). */
export interface TextOptions {
  readonly maxLength?: number;
  readonly names?: { readonly ids: string; readonly mask?: string | null; readonly typeIds?: string | null };
}

export type AttachOutcome = { readonly ok: true } | { readonly ok: false; readonly message: string };

export type SampleOutcome =
  | {
      readonly ok: true;
      readonly index: number;
      readonly count: number;
      readonly label: number;
      /** A float sample (images, tensors) for the graph's float input. */
      readonly input?: Float32Array;
      readonly dims?: readonly number[];
      /** A text sample. */
      readonly text?: TextInput;
      /** A sample of a set with one tensor per graph input. */
      readonly feeds?: readonly Feed[];
    }
  | { readonly ok: false; readonly message: string };

export interface InferRequest {
  /** A task index, or 'auto': route the input to a task by the models' confidence. */
  readonly task: number | 'auto';
  /** The float input (an image, a tensor) for the graph's float input. */
  readonly input?: Float32Array;
  readonly dims?: readonly number[];
  /** The text for the graph's text inputs, tokenized in the worker. */
  readonly text?: TextInput;
  /** Every graph input by name (a sample of a multi-input set): used as they are. */
  readonly feeds?: readonly Feed[];
  readonly columns: readonly Column[];
  readonly provider: ExecutionProvider;
}

export interface ColumnOutput {
  readonly column: Column;
  readonly label: string;
  /** The execution provider that ran it ('wasm' when WebGPU was asked for but failed). */
  readonly provider: ExecutionProvider;
  readonly values: Float32Array;
  readonly dims: readonly number[];
  readonly ms: number;
}

export interface Routing {
  /** The column whose task models did the routing (EMR when there is one). */
  readonly column: Column;
  readonly task: number;
  readonly confidence: number;
  readonly runnerUp: { readonly task: number; readonly confidence: number } | null;
  readonly scores: readonly number[];
}

export type InferOutcome =
  | {
      readonly ok: true;
      readonly task: number;
      readonly outputs: readonly ColumnOutput[];
      readonly routing?: Routing;
      /** The text's tokens as the graph got them (special tokens included, padding left out). */
      readonly tokens?: readonly string[];
      /** True when the text was cut to the sequence length. */
      readonly truncated?: boolean;
    }
  | { readonly ok: false; readonly message: string };

export interface EvalRequest {
  readonly columns: readonly Column[];
  readonly routed: boolean;
  readonly provider: ExecutionProvider;
}

export type EvalOutcome =
  | { readonly ok: true; readonly report: EvalReport }
  | { readonly ok: false; readonly cancelled: boolean; readonly message: string };
