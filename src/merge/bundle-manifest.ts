// The bundle's manifest (docs/bundle-format.md) checked in full before anything is rebuilt from
// it: a bundle is a file from anywhere, and a manifest that is null, a λ that is a string or a
// dtype no one knows must be refused naming the bundle — not surface as a TypeError, NaN weights
// written with exit 0, or a complaint about the output file.
import { elementCount, isDType, isMergeDType, type DType, type MergeDType } from '../formats/dtype';
import { FormatError } from '../formats/errors';
import type { MethodSpec } from './methods';

export const BUNDLE_FORMAT = 'merge-studio/emr-bundle';
export const BUNDLE_VERSION = '1';

/** One tensor of a task's model, in the task's own order: merged (shared) or carried through. */
export interface ManifestTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly shared: boolean;
}

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: string;
  readonly method: Extract<MethodSpec, { method: 'emr' }>;
  readonly tasks: readonly {
    name: string;
    lambda: number;
    lambdaDefaulted: boolean;
    tensors: readonly ManifestTensor[];
  }[];
  /** Shared tensors: name, shape and the base's dtype. */
  readonly shared: readonly { name: string; shape: readonly number[]; baseDtype: MergeDType }[];
  /** Whether the task-specific tensors are stored in the bundle (else they come from the task's file). */
  readonly includesTaskSpecific: boolean;
}

type Fail = (problem: string) => never;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const text = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
};

function list(v: unknown, what: string, fail: Fail): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is ${show(v)}, not a list`);
  return v as unknown[];
}
function record(v: unknown, what: string, fail: Fail): Record<string, unknown> {
  if (!isRecord(v)) fail(`${what} is ${show(v)}, not an object`);
  return v as Record<string, unknown>;
}
function text(v: unknown, what: string, fail: Fail): string {
  if (typeof v !== 'string' || v === '') fail(`${what} is ${show(v)}, not a non-empty string`);
  return v as string;
}
function bool(v: unknown, what: string, fail: Fail): boolean {
  if (typeof v !== 'boolean') fail(`${what} is ${show(v)}, not true or false`);
  return v as boolean;
}
function shapeOf(v: unknown, what: string, fail: Fail): number[] {
  const shape = list(v, what, fail);
  if (
    !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) ||
    elementCount(shape as number[]) === undefined
  )
    fail(`${what} ${show(v)} is not a shape (non-negative integer dimensions)`);
  return shape as number[];
}

/** Parses and checks the manifest text of the bundle `file`; every problem is a FormatError naming it. */
export function parseBundleManifest(raw: string, file: string): BundleManifest {
  const fail: Fail = (problem) => {
    throw new FormatError('header-json', file, `the bundle's manifest: ${problem}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new FormatError('header-json', file, "the bundle's manifest is not valid JSON", { cause: e });
  }
  const m = record(json, 'the manifest', fail);
  if (m['version'] !== BUNDLE_VERSION)
    throw new FormatError(
      'unsupported',
      file,
      `bundle version ${show(m['version'])} is not supported (this build reads ${BUNDLE_VERSION})`,
    );
  const method = record(m['method'], 'method', fail);
  if (method['method'] !== 'emr' || (method['rescale'] !== 'tensor-mean' && method['rescale'] !== 'global'))
    fail(`method ${show(method)} is not {"method": "emr", "rescale": "tensor-mean" | "global"}`);
  const includesTaskSpecific = bool(m['includesTaskSpecific'], 'includesTaskSpecific', fail);

  const sharedShapes = new Map<string, readonly number[]>();
  const shared = list(m['shared'], 'shared', fail).map((s, i) => {
    const r = record(s, `shared[${i}]`, fail);
    const name = text(r['name'], `shared[${i}].name`, fail);
    if (sharedShapes.has(name)) fail(`shared names ${show(name)} twice`);
    const shape = shapeOf(r['shape'], `shared tensor ${show(name)}: shape`, fail);
    const dtype = r['baseDtype'];
    if (typeof dtype !== 'string' || !isDType(dtype) || !isMergeDType(dtype))
      fail(`shared tensor ${show(name)}: baseDtype ${show(dtype)} is not F32, F16 or BF16`);
    sharedShapes.set(name, shape);
    return { name, shape, baseDtype: dtype as MergeDType };
  });

  const taskNames = new Set<string>();
  const tasks = list(m['tasks'], 'tasks', fail).map((t, i) => {
    const r = record(t, `tasks[${i}]`, fail);
    const name = text(r['name'], `tasks[${i}].name`, fail);
    if (taskNames.has(name)) fail(`two tasks are named ${show(name)}`);
    taskNames.add(name);
    const what = `task ${show(name)}`;
    const lambda = r['lambda'];
    // λ_t = Σ|τ_t| / Σ|M_t⊙τ_uni|: a finite, non-negative number; anything else would write NaNs.
    if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0)
      fail(`${what}: lambda ${show(lambda)} is not a finite number ≥ 0`);
    const lambdaDefaulted = bool(r['lambdaDefaulted'], `${what}: lambdaDefaulted`, fail);
    const names = new Set<string>();
    const tensors = list(r['tensors'], `${what}: tensors`, fail).map((x, j): ManifestTensor => {
      const e = record(x, `${what}: tensors[${j}]`, fail);
      const tensor = text(e['name'], `${what}: tensors[${j}].name`, fail);
      const where = `${what}, tensor ${show(tensor)}`;
      if (names.has(tensor)) fail(`${what} lists tensor ${show(tensor)} twice`);
      names.add(tensor);
      const dtype = e['dtype'];
      if (typeof dtype !== 'string' || !isDType(dtype))
        fail(`${where}: dtype ${show(dtype)} is not a known dtype`);
      const shape = shapeOf(e['shape'], `${where}: shape`, fail);
      const isShared = bool(e['shared'], `${where}: shared`, fail);
      if (isShared) {
        if (!isMergeDType(dtype as DType)) fail(`${where}: merged, but dtype ${show(dtype)} is not a float`);
        const s = sharedShapes.get(tensor);
        if (!s) fail(`${where}: marked shared, but not in the shared list`);
        if ((s as readonly number[]).join() !== shape.join())
          fail(
            `${where}: shape [${shape.join(', ')}], but shared as [${(s as readonly number[]).join(', ')}]`,
          );
      }
      return { name: tensor, dtype: dtype as DType, shape, shared: isShared };
    });
    return { name, lambda: lambda as number, lambdaDefaulted, tensors };
  });
  if (tasks.length < 2)
    fail(`${tasks.length} task${tasks.length === 1 ? '' : 's'}; a bundle holds two or more`);
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    method: { method: 'emr', rescale: method['rescale'] as 'tensor-mean' | 'global' },
    includesTaskSpecific,
    shared,
    tasks,
  };
}
