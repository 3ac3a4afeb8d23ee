// What crosses between the page and the studio worker: plain, structured-cloneable summaries.
// The worker keeps the heavy things (opened checkpoints, τ_uni, masks); the page gets these.
import type { LeftOutReason } from '../../src/merge/model-set';
import type { AnyMethodSpec } from '../../src/merge/methods';
import type { NonFiniteReport } from '../../src/merge/non-finite';
import type { LabeledSet } from '../../src/inference/evaluate';
import type { TextRows } from '../../src/inference/labeled-text';
import type { MergeSummary, StorageSummary, TaskStats, TensorStats } from '../../src/flow/summary';
import type { EvalReport } from '../../src/inference/eval-table';
import type { RemoteAbout, RemoteRequest } from './remote';
import type { LambdaCalls } from './choose-protocol';
import type {
  AttachOutcome,
  EvalOutcome,
  EvalRequest,
  InferenceSetup,
  InferOutcome,
  InferRequest,
  SampleOutcome,
  TextOptions,
} from './inference-protocol';

export type * from './inference-protocol';

export type EngineKind = 'cpu' | 'gpu';

/** A file with the path it had inside a dropped folder (File.name is only the last part). */
export interface PathedFile {
  readonly path: string;
  readonly file: Blob;
}

/** A multi-modal text set's images, one per row ([M, ...sampleShape]), preprocessed by the page. */
export interface RowImages {
  readonly data: Float32Array;
  readonly sampleShape: readonly number[];
}

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
  /**
   * An imported mergekit recipe's text (app/state/recipe.ts): its models are merged as named — a
   * model refused stops the merge rather than being left out — and the text is the export's
   * mergekit_config.yml, verbatim (as the CLI writes a recipe it ran).
   */
  readonly recipe?: string;
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

// The merge summary is the product flow's (src/flow/summary.ts): one builder for the studio and the CLI.
export type { MergeSummary, StorageSummary, TaskStats, TensorStats };
export type { NonFiniteReport };

/** Where the kept results are after a merge or a switch (app/worker/kept-results.ts). */
export interface KeptPlaces {
  /** Summary ids of the kept results now on disk: spilled past the memory budget, read back on switch. */
  readonly onDisk?: readonly number[];
  /** Summary ids let go: replaced by the same method, or past the budget where none could be spilled. */
  readonly dropped?: readonly number[];
  /** Why a result was let go instead of spilled (no scratch storage, or full), or not read back. */
  readonly spillProblem?: string;
}

export type MergeOutcome =
  | ({ readonly ok: true; readonly summary: MergeSummary } & KeptPlaces)
  | { readonly ok: false; readonly cancelled: boolean; readonly message: string };

/** The switcher's answer: the result now on screen, or none when it is no longer kept. */
export type ChooseOutcome = { readonly summary: MergeSummary | undefined } & KeptPlaces;

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

/** A remote checkpoint opened from its headers: its summary, and its names and bytes fetched. */
export type RemoteOutcome =
  (OpenOutcome & { readonly ok: true; readonly about: RemoteAbout }) | (OpenOutcome & { readonly ok: false });

/**
 * The page↔worker API: every call the page may make, by name, with its arguments and its answer.
 * The worker's service implements exactly this (app/worker/service.ts, checked at compile time) and
 * the page's client (app/worker/client.ts) classifies every call of it, so a call added here must be
 * handled on both sides before the project compiles. Callbacks cross as comlink proxies.
 */
export interface StudioCalls extends LambdaCalls {
  // Settings (replayed in a fresh worker)
  setOrigin: { args: [origin: 'demo' | 'user', zoo?: string]; result: void };
  setBudget: { args: [bytes: number | undefined]; result: void };
  setSpillOver: { args: [bytes: number]; result: void };
  setKeptScratchRoom: { args: [bytes: number | undefined]; result: void };
  setShardBytes: { args: [bytes: number | undefined]; result: void };
  // Files
  open: { args: [id: string, primary: PathedFile, companions: readonly PathedFile[]]; result: OpenOutcome };
  openRemote: { args: [id: string, request: RemoteRequest]; result: RemoteOutcome };
  /** Bytes each remote checkpoint fetched so far, by id. */
  remoteFetched: { args: []; result: Record<string, number> };
  forget: { args: [id: string]; result: void };
  clearAll: { args: []; result: void };
  align: { args: [selection: Selection]; result: AlignOutcome };
  // Merging
  merge: {
    args: [
      selection: Selection,
      spec: AnyMethodSpec,
      engine: EngineKind,
      onProgress: (p: ProgressUpdate) => void,
    ];
    result: MergeOutcome;
  };
  cancel: { args: []; result: void };
  openBundle: { args: [bundleId: string, baseId: string]; result: MergeOutcome };
  chooseResult: { args: [id: number]; result: ChooseOutcome };
  // Recent merges
  recentMerges: { args: []; result: { merges: RecentMerge[]; problem?: string } };
  recentBundle: { args: [id: string]; result: File };
  removeRecent: { args: [id: string]; result: void };
  // Inspect and export
  maskImage: { args: [req: MaskImageRequest]; result: MaskImage | undefined };
  histograms: { args: []; result: Histogram | undefined };
  export: { args: [what: ExportWhat, target: ExportTarget]; result: ExportOutcome };
  // Inference and evaluation
  inferenceSetup: { args: []; result: InferenceSetup | undefined };
  attachGraph: { args: [id: string, task: string]; result: AttachOutcome };
  attachLabeled: { args: [id: string, task: string]; result: AttachOutcome };
  attachLabeledSet: { args: [task: string, set: LabeledSet, name: string]; result: void };
  attachTokenizer: { args: [files: readonly PathedFile[], options?: TextOptions]; result: AttachOutcome };
  attachTextImages: { args: [task: string, rows: TextRows, images: RowImages]; result: void };
  attachLabeledText: {
    args: [task: string, file: PathedFile, classes?: readonly string[]];
    result: AttachOutcome;
  };
  sample: { args: [task: string, index: number]; result: SampleOutcome };
  infer: { args: [req: InferRequest]; result: InferOutcome };
  evaluate: {
    args: [
      req: EvalRequest,
      onProgress: (done: number, total: number) => void,
      onRows?: (partial: EvalReport) => void,
    ];
    result: EvalOutcome;
  };
  cancelEvaluate: { args: []; result: void };
}

export type StudioMethod = keyof StudioCalls;

/** What the worker implements: each call, answered at once or later. */
export type StudioApi = {
  readonly [K in StudioMethod]: (
    ...args: StudioCalls[K]['args']
  ) => StudioCalls[K]['result'] | Promise<StudioCalls[K]['result']>;
};

/** What the page calls: every answer comes back as a promise. */
export type StudioRemote = {
  readonly [K in StudioMethod]: (...args: StudioCalls[K]['args']) => Promise<StudioCalls[K]['result']>;
};
