// The EMR bundle: everything needed to rebuild any task's model from the base, in one
// safetensors file — τ_uni (f32), each task's mask at one bit per element, the rescalers, and a
// manifest of the tasks' tensors in __metadata__. Layout: docs/bundle-format.md.
import { dtypeBytes, type DType } from '../formats/dtype';
import { FormatError } from '../formats/errors';
import { createSafetensorsWriter, safetensorsFileBytes } from '../formats/safetensors';
import type { ByteSink } from '../formats/sink';
import { tensorName, type Checkpoint, type TensorEntry, type TensorName } from '../formats/tensor';
import { maskWords } from './cpu/kernels';
import { f32View, valuesOf, type EmrValues } from './emr-values';
import type { EmrResult } from './merge';
import { BUNDLE_FORMAT, BUNDLE_VERSION, parseBundleManifest, type BundleManifest } from './bundle-manifest';
import { buildModelSet } from './model-set';

export { BUNDLE_FORMAT, BUNDLE_VERSION };

export const tauUniKey = (name: string) => `tau_uni/${name}`;
export const maskKey = (task: string, name: string) => `mask/${task}/${name}`;
export const taskTensorKey = (task: string, name: string) => `task/${task}/${name}`;

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

function manifestOf(result: EmrResult, includeTaskSpecific: boolean): BundleManifest {
  const shared = new Set<string>(result.set.shared.map((s) => s.name));
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    method: result.spec,
    includesTaskSpecific: includeTaskSpecific,
    shared: result.set.shared.map((s) => ({ name: s.name, shape: s.shape, baseDtype: s.base.dtype })),
    tasks: result.set.tasks.map((task, t) => ({
      name: task.name,
      lambda: result.lambdas[t] as number,
      lambdaDefaulted: result.tasks[t]?.lambdaDefaulted ?? false,
      tensors: [...task.checkpoint.tensors.values()].map((e) => ({
        name: e.name,
        dtype: e.dtype,
        shape: e.shape,
        shared: shared.has(e.name),
      })),
    })),
  };
}

/** Masks as stored: U8, bit i of the mask in byte i >> 3 at bit i & 7 (the u32 words' little-endian bytes). */
function maskBytes(words: Uint32Array, numel: number): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength).subarray(0, Math.ceil(numel / 8));
}

/** τ_uni pieces are written this many elements at a time (a spilled τ_uni is never read whole). */
const TAU_PIECE = 1 << 22;

export interface BundleSize {
  /** The bundle file's size on disk: length prefix, padded header (with the manifest) and data. */
  readonly bundleBytes: number;
  /** What the N task models take in their own dtypes. */
  readonly taskModelsBytes: number;
}

interface BundleTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  pieces(): AsyncIterable<Uint8Array>;
}

/** The bundle's header metadata: the format, and the manifest as JSON. */
const bundleMetadata = (result: EmrResult, includeTaskSpecific: boolean) => ({
  format: BUNDLE_FORMAT,
  manifest: JSON.stringify(manifestOf(result, includeTaskSpecific)),
});

/**
 * The bytes the bundle of `result` takes on disk, computed without writing it — by the writer's own
 * header code, so that the CLI's summary and the studio's Storage card say what the file really has.
 */
export function bundleFileBytes(result: EmrResult, { includeTaskSpecific = true } = {}): number {
  return safetensorsFileBytes(
    bundleTensors(result, includeTaskSpecific),
    bundleMetadata(result, includeTaskSpecific),
  );
}

/** What the N task models take in their own dtypes. */
export const taskModelsBytes = (result: EmrResult): number =>
  result.set.tasks.reduce(
    (a, task) => a + [...task.checkpoint.tensors.values()].reduce((b, e) => b + e.byteLength, 0),
    0,
  );

/** Writes the bundle; task-specific tensors are included unless told otherwise. */
export async function writeBundle(
  result: EmrResult,
  sink: ByteSink,
  { includeTaskSpecific = true } = {},
): Promise<BundleSize> {
  const specs = bundleTensors(result, includeTaskSpecific);
  // Every byte handed to the sink, counted: the file's size, without encoding the header twice.
  let bundleBytes = 0;
  const counted: ByteSink = {
    name: sink.name,
    write: (bytes) => ((bundleBytes += bytes.byteLength), sink.write(bytes)),
    close: () => sink.close(),
  };
  const writer = await createSafetensorsWriter(counted, specs, bundleMetadata(result, includeTaskSpecific));
  for (const s of specs) for await (const bytes of s.pieces()) await writer.write(s.name, bytes);
  await writer.close();
  return { bundleBytes, taskModelsBytes: taskModelsBytes(result) };
}

/** The bundle's tensors in file order, each with its bytes as pieces read when written. */
function bundleTensors(result: EmrResult, includeTaskSpecific: boolean): BundleTensor[] {
  const specs: BundleTensor[] = [];
  const { values } = result;
  for (const s of result.set.shared) {
    specs.push({
      name: tauUniKey(s.name),
      dtype: 'F32',
      shape: s.shape,
      async *pieces() {
        for (let first = 0; first < s.numel; first += TAU_PIECE) {
          const tau = await values.tau(s.name, first, Math.min(s.numel, first + TAU_PIECE));
          yield new Uint8Array(tau.buffer, tau.byteOffset, tau.byteLength);
        }
      },
    });
  }
  result.set.tasks.forEach((task, t) => {
    for (const s of result.set.shared) {
      specs.push({
        name: maskKey(task.name, s.name),
        dtype: 'U8',
        shape: [Math.ceil(s.numel / 8)],
        async *pieces() {
          yield maskBytes(await values.mask(s.name, t, 0, maskWords(s.numel)), s.numel);
        },
      });
    }
    if (includeTaskSpecific) {
      for (const e of result.set.passThrough[t] ?? []) {
        specs.push({
          name: taskTensorKey(task.name, e.name),
          dtype: e.dtype,
          shape: e.shape,
          async *pieces() {
            yield await e.data.read(0, e.byteLength);
          },
        });
      }
    }
  });
  return specs;
}

function parseManifest(bundle: Checkpoint, file: string): BundleManifest {
  const raw = bundle.metadata.get('manifest');
  if (bundle.metadata.get('format') !== BUNDLE_FORMAT || !raw) {
    throw new BundleError(
      `${file}: not an EMR bundle (its __metadata__ has no "format": "${BUNDLE_FORMAT}" and manifest)`,
    );
  }
  return parseBundleManifest(raw, file);
}

function need(bundle: Checkpoint, file: string, key: string): TensorEntry {
  const e = bundle.tensors.get(tensorName(key));
  if (!e) throw new BundleError(`${file}: the bundle has no tensor ${key}`);
  return e;
}

/**
 * The model set a bundle's manifest describes over `base` (checked to be the base it was made
 * from): each task as a checkpoint whose shared tensors are described only (their values come
 * from the bundle's own tensors) and whose task-specific tensors are read from the bundle or the
 * task's file. Shared with the per-task artefacts (./pertask/artefact), whose lists are the same.
 */
export function bundleModelSet(
  bundle: Checkpoint,
  base: Checkpoint,
  manifest: Pick<BundleManifest, 'shared' | 'tasks' | 'includesTaskSpecific'>,
  taskFiles: ReadonlyMap<string, Checkpoint> = new Map(),
) {
  const file = bundle.files[0] ?? 'bundle';
  for (const s of manifest.shared) {
    const b = base.tensors.get(tensorName(s.name));
    if (!b || b.shape.join() !== s.shape.join() || b.dtype !== s.baseDtype) {
      throw new BundleError(
        `${base.files[0] ?? 'base'}: not the base this bundle was made from — tensor ${s.name} ` +
          (b
            ? `is ${b.dtype} [${b.shape.join(', ')}], the bundle expects ${s.baseDtype} [${s.shape.join(', ')}]`
            : 'is missing'),
      );
    }
  }
  // Each task as a checkpoint: shared tensors are described only (their values come from τ_uni,
  // masks and the base), task-specific tensors are read from the bundle or the task's file.
  const tasks = manifest.tasks.map((task) => {
    const tensors = new Map<TensorName, TensorEntry>();
    for (const m of task.tensors) {
      const name = tensorName(m.name);
      if (m.shared) {
        const numel = m.shape.reduce((a, d) => a * d, 1);
        tensors.set(name, {
          name,
          dtype: m.dtype,
          shape: m.shape,
          byteLength: numel * dtypeBytes(m.dtype),
          file,
          data: {
            read: () =>
              Promise.reject(
                new BundleError(`${file}: ${m.name} of ${task.name} is rebuilt from the bundle, not stored`),
              ),
          },
        });
      } else if (manifest.includesTaskSpecific) {
        const stored = need(bundle, file, taskTensorKey(task.name, m.name));
        if (stored.dtype !== m.dtype || stored.shape.join() !== m.shape.join())
          throw new FormatError(
            'header-json',
            file,
            `${taskTensorKey(task.name, m.name)} is ${stored.dtype} [${stored.shape.join(', ')}], the manifest says ${m.dtype} [${m.shape.join(', ')}]`,
          );
        tensors.set(name, { ...stored, name });
      } else {
        const own = taskFiles.get(task.name)?.tensors.get(name);
        if (!own)
          throw new BundleError(
            `${file}: the bundle does not store ${m.name} of task ${task.name}; give that task's own file`,
          );
        tensors.set(name, own);
      }
    }
    return {
      name: task.name,
      checkpoint: {
        format: 'safetensors' as const,
        files: [file],
        tensors,
        metadata: new Map<string, string>(),
      },
    };
  });
  return { set: buildModelSet(base, tasks), tasks };
}

/**
 * Rebuilds the merge result from a bundle and the base it was made from, so that ./task-model
 * gives every task's model exactly as the merge did. Task-specific tensors come from the bundle,
 * or, if it was written without them, from `taskFiles` (the tasks' own checkpoints by name).
 */
export async function openBundle(
  bundle: Checkpoint,
  base: Checkpoint,
  taskFiles: ReadonlyMap<string, Checkpoint> = new Map(),
): Promise<EmrResult> {
  const file = bundle.files[0] ?? 'bundle';
  const manifest = parseManifest(bundle, file);
  const sharedNames = new Set(manifest.shared.map((s) => s.name));
  const { set, tasks } = bundleModelSet(bundle, base, manifest, taskFiles);
  const tauEntries = new Map<TensorName, TensorEntry>();
  const maskEntries = new Map<TensorName, TensorEntry[]>();
  for (const s of set.shared) {
    if (!sharedNames.has(s.name))
      throw new BundleError(`${file}: ${s.name} would be merged but the bundle has no τ_uni for it`);
    const tau = need(bundle, file, tauUniKey(s.name));
    if (tau.dtype !== 'F32' || tau.byteLength !== s.numel * 4)
      throw new BundleError(`${file}: τ_uni of ${s.name} is not ${s.numel} F32 values`);
    tauEntries.set(s.name, tau);
    maskEntries.set(
      s.name,
      tasks.map((task) => {
        const m = need(bundle, file, maskKey(task.name, s.name));
        if (m.byteLength !== Math.ceil(s.numel / 8))
          throw new BundleError(
            `${file}: the mask of ${task.name} for ${s.name} has ${m.byteLength} bytes, not ${Math.ceil(s.numel / 8)}`,
          );
        return m;
      }),
    );
  }
  const values = bundleValues(tauEntries, maskEntries);
  return {
    spec: manifest.method,
    set,
    values,
    tauUni: new Map(),
    masks: new Map(),
    lambdas: manifest.tasks.map((t) => t.lambda),
    tasks: manifest.tasks.map((t) => ({
      task: t.name,
      lambda: t.lambda,
      numerator: Number.NaN,
      denominator: Number.NaN,
      lambdaDefaulted: t.lambdaDefaulted,
      density: Number.NaN,
    })),
    tensors: [],
    bytesRead: 0,
  };
}

/**
 * τ_uni and the masks read by range from the bundle's own tensors, so a bundle larger than memory
 * (an LLM's) rebuilds its tasks chunk by chunk. Stored masks are ⌈numel/8⌉ bytes: the last word is
 * completed with zeros.
 */
function bundleValues(
  tau: ReadonlyMap<TensorName, TensorEntry>,
  masks: ReadonlyMap<TensorName, readonly TensorEntry[]>,
): EmrValues {
  return {
    location: 'bundle',
    tau: async (name, first, last) => f32View(await valuesOf(tau, name).data.read(first * 4, last * 4)),
    async mask(name, t, firstWord, count) {
      const e = valuesOf(masks, name)[t];
      if (!e) throw new RangeError(`no mask of task ${t} for tensor ${name}`);
      const out = new Uint32Array(count);
      const start = Math.min(e.byteLength, firstWord * 4);
      const end = Math.min(e.byteLength, (firstWord + count) * 4);
      if (end > start) new Uint8Array(out.buffer).set(await e.data.read(start, end));
      return out;
    },
    release: async () => {},
  };
}
