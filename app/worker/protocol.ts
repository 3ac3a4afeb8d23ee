// What crosses between the page and the studio worker: plain, structured-cloneable summaries.
// The worker keeps the heavy things (opened checkpoints, τ_uni, masks); the page gets these.
import type { LeftOutReason } from '../../src/merge/model-set';
import type { MethodSpec } from '../../src/merge/methods';
import type { NonFiniteReport } from '../../src/merge/non-finite';
import type { EvalReport } from '../../src/inference/eval-table';
import type { ExecutionProvider, Feed } from '../../src/inference/ort';

export type EngineKind = 'cpu' | 'gpu';

/** One checkpoint read from its headers: what the file card shows. */
export interface CheckpointSummary {
  readonly format: 'safetensors' | 'onnx' | 'pytorch';
  readonly files: readonly string[];
  readonly tensorCount: number;
  readonly parameters: number;
  /** dtype → number of tensors with it. */
  readonly dtypes: Readonly<Record<string, number>>;
  /** Sum of the files' sizes. */
  readonly bytes: number;
  /** An EMR bundle written by this studio (its metadata says so), not a model. */
  readonly isBundle: boolean;
  /** A PEFT adapter (adapter_config.json beside its weights): a task over the base. */
  readonly peft?: { readonly type: 'LORA' | 'IA3'; readonly r: number; readonly alpha: number };
}

export type OpenOutcome =
  | { readonly ok: true; readonly summary: CheckpointSummary }
  | { readonly ok: false; readonly message: string };

/** Which opened checkpoints to merge, by the ids the page gave them. */
export interface Selection {
  readonly baseId: string;
  readonly tasks: readonly { readonly id: string; readonly name: string }[];
}

export interface SharedSummary {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtypes: readonly string[];
}

export interface AlignmentSummary {
  readonly shared: readonly SharedSummary[];
  readonly sharedParameters: number;
  readonly leftOut: readonly {
    readonly name: string;
    readonly reason: LeftOutReason;
    readonly detail: string;
    readonly passThroughTasks: readonly string[];
  }[];
  readonly baseOnly: readonly string[];
}

/** A task file that is not a fine-tune of the base: refused, with the tensors that differ. */
export interface RefusedTask {
  readonly id: string;
  readonly message: string;
  readonly differing: readonly string[];
}

export type AlignOutcome =
  | {
      readonly ok: true;
      readonly report: AlignmentSummary;
      readonly refused: readonly RefusedTask[];
    }
  | { readonly ok: false; readonly message: string; readonly refused: readonly RefusedTask[] };

export interface ProgressUpdate {
  readonly phase: 'histogram' | 'threshold' | 'merge';
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly tensorsDone: number;
  readonly tensorsTotal: number;
  /** Seconds since the merge started. */
  readonly elapsed: number;
}

export interface TaskStats {
  readonly name: string;
  readonly format: 'safetensors' | 'onnx';
  /** Set when the task came in as a PyTorch checkpoint: its export is written as safetensors. */
  readonly fromPytorch?: boolean;
  /** Set when the task came in as a Hugging Face model folder: its export is a folder (a zip). */
  readonly folder?: boolean;
  /** EMR only (NaN otherwise). */
  readonly lambda: number;
  /** λ's two sums; NaN when restored from a bundle (the bundle does not store them). */
  readonly numerator: number;
  readonly denominator: number;
  readonly lambdaDefaulted: boolean;
  readonly density: number;
  /** Files its safetensors export takes: 1, or the shards of a model past the shard size. */
  readonly files: number;
  /** Its weights' bytes (what its export holds, less the file's header or graph). */
  readonly bytes: number;
}

export interface TensorStats {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numel: number;
  /** Sign-conflict rate (elements where tasks' τ disagree in sign / numel); NaN from a bundle. */
  readonly conflictRate: number;
  /** Mask density per task (task order). */
  readonly density: readonly number[];
  /**
   * Per task, true where the task leaves the tensor as the base's (a LoRA adapter that does not
   * adapt it: τ = 0, so its mask is empty by construction, not by disagreement). Absent when none.
   */
  readonly untouched?: readonly boolean[];
}

export type { NonFiniteReport };

export interface MergeSummary {
  /** Increases with every merge, so views know a new result arrived. */
  readonly id: number;
  readonly spec: MethodSpec;
  readonly engine: string;
  readonly seconds: number;
  readonly bytesRead: number;
  readonly source: 'merge' | 'bundle';
  readonly tasks: readonly TaskStats[];
  /** Shared tensors in merge order; densities only for EMR. */
  readonly tensors: readonly TensorStats[];
  readonly storage: StorageSummary;
  /** NaN/±∞ in the weights as read, only when any (src/merge/non-finite), with the line to show. */
  readonly nonFinite?: NonFiniteReport & { readonly warning: string };
  /** EMR: where τ_uni and the masks are kept — in memory, spilled to OPFS, or read from the bundle. */
  readonly values?: { readonly location: 'memory' | 'spill' | 'bundle'; readonly bytes: number };
}

export interface StorageSummary {
  /** N full task models, in their own dtypes. */
  readonly taskModelsBytes: number;
  /** The base model (needed beside the bundle). */
  readonly baseBytes: number;
  /** τ_uni (f32) + N one-bit masks + N scalars + the task-specific tensors. */
  readonly bundleBytes: number;
  /** When the tasks came as PEFT adapters: their files' bytes, all together. */
  readonly adapterBytes?: number;
}

export type MergeOutcome =
  | { readonly ok: true; readonly summary: MergeSummary }
  | { readonly ok: false; readonly cancelled: boolean; readonly message: string };

export type ViewMode = 'mask' | 'sign' | 'agreement' | 'other-mask';

export interface MaskImageRequest {
  readonly tensor: string;
  readonly task: number;
  /** What to draw: the task's mask, the sign of τ_uni, how many tasks' masks are on, another task's mask. */
  readonly mode: ViewMode;
  readonly otherTask?: number;
  /** Most cells to send: above it, elements are pooled into blocks. */
  readonly maxCells: number;
}

export interface MaskImage {
  readonly rows: number;
  readonly cols: number;
  /** Elements per cell along each axis (1 × 1: one pixel per element). */
  readonly blockRows: number;
  readonly blockCols: number;
  /** The tensor's shape as viewed in 2-D. */
  readonly viewRows: number;
  readonly viewCols: number;
  /** Per cell: density in [0, 1] (mask, agreement as a share of tasks) or mean sign in [-1, 1]. */
  readonly values: Float32Array<ArrayBuffer>;
  readonly mode: ViewMode;
  readonly numTasks: number;
}

export interface Histogram {
  /** log10 of the bins' lower edges, evenly spaced; the last entry is the upper edge. */
  readonly log10Edges: readonly number[];
  readonly tauUni: readonly number[];
  /** Per task |τ_t|. */
  readonly tasks: readonly (readonly number[])[];
  /** Exact zeros are left out of log bins and counted here. */
  readonly zeros: { readonly tauUni: number; readonly tasks: readonly number[] };
  /** True when the tasks' counts come from a sample of each tensor (large models). */
  readonly sampled: boolean;
}

export type ExportTarget =
  /** Streamed to a file the user picked (File System Access API). */
  | { readonly kind: 'handle'; readonly handle: FileSystemFileHandle }
  /** Several files (the shards of a large model) into a folder the user picked. */
  | { readonly kind: 'directory'; readonly handle: FileSystemDirectoryHandle }
  /** Collected into a Blob the page downloads (a zip when it is several files). */
  | { readonly kind: 'blob' };

export type ExportOutcome =
  | { readonly ok: true; readonly bytes: number; readonly blob?: Blob }
  | { readonly ok: false; readonly message: string };

export type ExportWhat =
  { readonly kind: 'bundle' } | { readonly kind: 'task'; readonly task: number } | { readonly kind: 'zip' };

/** A column of the inference and evaluation views: the individual fine-tune, or a merge method. */
export type Column = 'individual' | MethodSpec['method'];

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

/** A finished EMR merge kept in the origin-private file system (app/worker/recent.ts). */
export interface RecentMerge {
  readonly id: string;
  /** ISO time it was saved. */
  readonly savedAt: string;
  readonly method: string;
  readonly tasks: readonly string[];
  /** The base it was merged from: restoring needs it again. */
  readonly base: { readonly file: string; readonly bytes: number };
  /** The demo zoo (restored by loading the demo again) or the user's own files. */
  readonly origin: 'demo' | 'user';
  /** Which demo zoo, for a demo merge (older records: digits-8). */
  readonly zoo?: string;
  readonly bundleBytes: number;
}
