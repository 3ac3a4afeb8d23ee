// The one merge summary: what a finished merge (or a restored bundle) is, per task and per shared
// tensor, and what its outputs take. The studio sends it to the page as it is; the CLI prints it
// (src/cli/print.ts), as text or as its --json.
import type { Checkpoint, TensorName } from '../formats/tensor';
import { bundleFileBytes } from '../merge/bundle';
import { maskWords } from '../merge/cpu/kernels';
import { valuesBytes } from '../merge/emr-values';
import { isEmr, type AnyMergeResult, type EmrResult } from '../merge/merge';
import type { AnyMethodSpec } from '../merge/methods';
import type { ModelSet } from '../merge/model-set';
import { nonFiniteSummary, type NonFiniteReport } from '../merge/non-finite';
import { writePerTaskArtefact } from '../merge/pertask/artefact';
import { isPerTaskResult, type PerTaskModulator } from '../merge/pertask/result';
import { maskOnes } from './mask-ones';
import { taskLayout } from './write-task';

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
  /** A per-task method's (src/merge/pertask): the task's λ_t when it has one, and the share of the shared weights it changes. */
  readonly perTask?: { readonly lambda?: number; readonly density: number };
}

export interface TensorStats {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numel: number;
  /**
   * Sign-conflict rate (elements where tasks' τ disagree in sign / numel): EMR's election counts it;
   * NaN from a bundle and for every other method (none elects a sign per element for all tasks).
   */
  readonly conflictRate: number;
  /**
   * Mask density per task (task order): EMR's mask; TALL masks' and Consensus's mask the task uses
   * (Consensus: one mask, every task the same); T-Switch's keep bits. Empty for other methods.
   */
  readonly density: readonly number[];
  /**
   * Per task, true where the task leaves the tensor as the base's (a LoRA adapter that does not
   * adapt it: τ = 0, so its mask is empty by construction, not by disagreement). Absent when none.
   */
  readonly untouched?: readonly boolean[];
  /**
   * TSV-C (a 2-D tensor it compresses): the singular components kept of min(rows, cols), and per
   * task the share of its τ's Σσ² they hold (absent for a result reloaded from its artefact).
   */
  readonly lowRank?: { readonly rank: number; readonly energy?: readonly number[] };
}

export interface StorageSummary {
  /** N full task models, in their own dtypes. */
  readonly taskModelsBytes: number;
  /** The base model (needed beside the bundle). */
  readonly baseBytes: number;
  /**
   * The bundle file's size on disk (header and manifest included): EMR's bundle, or a per-task
   * method's artefact (src/merge/pertask/artefact.ts); 0 for a method that makes one model.
   */
  readonly bundleBytes: number;
  /** When the tasks came as PEFT adapters: their files' bytes, all together. */
  readonly adapterBytes?: number;
}

export interface MergeSummaryOf<S> {
  /** Increases with every merge, so views know a new result arrived. */
  readonly id: number;
  readonly spec: S;
  readonly engine: string;
  readonly seconds: number;
  readonly bytesRead: number;
  readonly source: 'merge' | 'bundle';
  readonly tasks: readonly TaskStats[];
  /** Shared tensors in merge order; densities for the mask methods (EMR, TALL, Consensus, T-Switch). */
  readonly tensors: readonly TensorStats[];
  readonly storage: StorageSummary;
  /** NaN/±∞ in the weights as read, only when any (src/merge/non-finite), with the line to show. */
  readonly nonFinite?: NonFiniteReport & { readonly warning: string };
  /** EMR: where τ_uni and the masks are kept — in memory, spilled, or read from the bundle. */
  readonly values?: { readonly location: 'memory' | 'spill' | 'bundle'; readonly bytes: number };
  /** TIES: each task's |τ| threshold and the model-wide majority sign. */
  readonly ties?: { readonly thresholds: readonly number[]; readonly majority: -1 | 0 | 1 };
}

/** What the studio merges and shows. */
export type MergeSummary = MergeSummaryOf<AnyMethodSpec>;

export interface SummaryContext {
  readonly id: number;
  /** The engine's description as it finished (a fallback says so). */
  readonly engine: string;
  readonly seconds: number;
  readonly source: 'merge' | 'bundle';
  /** Task models past this many bytes are written as shards (./write-task.ts). */
  readonly shardBytes: number;
  /** The adapters' files' bytes, when every task came as a PEFT adapter. */
  readonly adapterBytes?: number;
}

const checkpointBytes = (c: Checkpoint) => [...c.tensors.values()].reduce((a, e) => a + e.byteLength, 0);

export async function mergeSummary<R extends AnyMergeResult>(
  result: R,
  ctx: SummaryContext,
): Promise<MergeSummaryOf<R['spec']>> {
  const { set } = result;
  const emr = isEmr(result) ? result : undefined;
  const modulator = isPerTaskResult(result) ? result.modulator : undefined;
  const tensors = await tensorStats(set, emr, modulator, lowRankOf(result));
  // A mask method's task density from the per-tensor counts, as the heatmap weighs them.
  const counted = emr || (modulator && modulator.kind !== 'lowrank');
  const shared = set.report.sharedParameters;
  const tasks = set.tasks.map((task, t): TaskStats => {
    const e = emr?.tasks[t];
    const density =
      e && !Number.isNaN(e.density)
        ? e.density
        : counted
          ? tensors.reduce((a, s) => a + (s.density[t] ?? 0) * s.numel, 0) / Math.max(1, shared)
          : Number.NaN;
    const layout = taskLayout(result, t, ctx.shardBytes);
    const own = isPerTaskResult(result) ? result.tasks[t] : undefined;
    return {
      name: task.name,
      format: layout.format,
      ...(task.checkpoint.format === 'pytorch' ? { fromPytorch: true } : {}),
      lambda: e?.lambda ?? Number.NaN,
      numerator: e?.numerator ?? Number.NaN,
      denominator: e?.denominator ?? Number.NaN,
      lambdaDefaulted: e?.lambdaDefaulted ?? false,
      density,
      files: layout.shards,
      bytes: checkpointBytes(task.checkpoint),
      ...(own
        ? { perTask: { ...(own.lambda !== undefined ? { lambda: own.lambda } : {}), density: own.density } }
        : {}),
    };
  });
  const nonFinite = nonFiniteSummary(
    result.nonFinite,
    set.tasks.map((t) => t.name),
    set.shared.length,
  );
  const ties = 'ties' in result ? result.ties : undefined;
  return {
    id: ctx.id,
    spec: result.spec,
    engine: ctx.engine,
    seconds: ctx.seconds,
    bytesRead: result.bytesRead,
    source: ctx.source,
    tasks,
    tensors,
    storage: {
      taskModelsBytes: set.tasks.reduce((a, t) => a + checkpointBytes(t.checkpoint), 0),
      baseBytes: checkpointBytes(set.base),
      // The bundle file's size on disk, by the writer's own header code (src/merge/bundle.ts).
      bundleBytes: emr ? bundleFileBytes(emr) : isPerTaskResult(result) ? await artefactBytes(result) : 0,
      ...(ctx.adapterBytes === undefined ? {} : { adapterBytes: ctx.adapterBytes }),
    },
    ...(nonFinite ? { nonFinite } : {}),
    ...(emr
      ? { values: { location: emr.values.location, bytes: valuesBytes(set.shared, set.tasks.length) } }
      : {}),
    ...(ties && result.spec.method === 'ties' ? { ties } : {}),
  };
}

/**
 * A per-task artefact's size on disk, by its own writer into a sink that only counts (the writer
 * has no separate size function, and a second formula could drift from it).
 */
function artefactBytes(result: Parameters<typeof writePerTaskArtefact>[0]): Promise<number> {
  return writePerTaskArtefact(result, {
    name: 'artefact',
    write: () => Promise.resolve(),
    close: () => Promise.resolve(),
  });
}

/** TSV-C's rank and energy kept per compressed tensor, by name. */
function lowRankOf(result: AnyMergeResult): ReadonlyMap<string, NonNullable<TensorStats['lowRank']>> {
  const m = isPerTaskResult(result) ? result.modulator : undefined;
  if (m?.kind !== 'lowrank') return new Map();
  return new Map(
    [...m.factors].map(([name, f]) => [name, { rank: f.rank, ...(f.energy ? { energy: f.energy } : {}) }]),
  );
}

/**
 * Ones in the mask each task uses of one tensor, from a per-task method's packed bits: TALL masks'
 * own mask, Consensus's one mask (maskOf picks it for every task), T-Switch's keep bits.
 */
function perTaskMaskOnes(m: PerTaskModulator, name: TensorName, numel: number, numTasks: number): number[] {
  if (m.kind === 'lowrank') return [];
  if (m.kind === 'switch') return maskOnes(need(m.keep, name), numel, numTasks);
  const ones = maskOnes(need(m.masks, name), numel, m.maskCount);
  return m.maskOf.map((j) => ones[j] as number);
}

function need<V>(map: ReadonlyMap<TensorName, V>, name: TensorName): V {
  const v = map.get(name);
  if (v === undefined) throw new RangeError(`the per-task result has no mask for tensor ${name}`);
  return v;
}

/** Per shared tensor: conflict rate (EMR) and mask densities, from the merge's stats or the masks. */
async function tensorStats(
  set: ModelSet,
  emr: EmrResult | undefined,
  modulator: PerTaskModulator | undefined,
  lowRank: ReadonlyMap<string, NonNullable<TensorStats['lowRank']>>,
): Promise<TensorStats[]> {
  const stats = new Map((emr?.tensors ?? []).map((s) => [s.name, s] as const));
  const numTasks = set.tasks.length;
  // Consensus: one mask shared by every task, whatever its τ — a task's tensor is not left alone.
  const sharedMask = modulator?.kind === 'masked' && modulator.maskCount === 1 && numTasks > 1;
  const onesOf = async (s: ModelSet['shared'][number]): Promise<readonly number[]> => {
    const st = stats.get(s.name);
    if (st) return st.maskOnes;
    if (modulator) return perTaskMaskOnes(modulator, s.name, s.numel, numTasks);
    if (!emr) return [];
    // From a bundle: counted from the masks, a task at a time (they may be on disk).
    const words = maskWords(s.numel);
    const ones: number[] = [];
    for (let t = 0; t < set.tasks.length; t++)
      ones.push(maskOnes(await emr.values.mask(s.name, t, 0, words), s.numel, 1)[0] as number);
    return ones;
  };
  const tensors: TensorStats[] = [];
  for (const s of set.shared) {
    const st = stats.get(s.name);
    const ones = await onesOf(s);
    // A LoRA task's tensor its adapter leaves alone is the base's own entry (src/peft/lora.ts).
    const untouched = s.tasks.map((e) => e === s.base && !sharedMask);
    const lr = lowRank.get(s.name);
    tensors.push({
      name: s.name,
      shape: s.shape,
      numel: s.numel,
      conflictRate: st ? st.conflicts / Math.max(1, s.numel) : Number.NaN,
      density: ones.map((n) => n / Math.max(1, s.numel)),
      ...(untouched.some(Boolean) ? { untouched } : {}),
      ...(lr ? { lowRank: lr } : {}),
    });
  }
  return tensors;
}
