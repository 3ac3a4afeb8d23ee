// A merge job from the command line's flags, or from a YAML file in mergekit's vocabulary:
//   merge_method: emr | ta | ties | avg     (mergekit's task_arithmetic / linear are accepted too)
//   base_model: PATH
//   parameters: { lambda, k (or density), rescale }
//   models: [{ model: PATH, name: NAME }]
// Unknown keys are refused by name, so a typo never silently changes a merge.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isRemote, remoteTaskName } from './remote';
import { parse as parseYaml } from 'yaml';
import {
  METHOD_NAMES,
  methodSpec,
  type MethodName,
  type MethodParams,
  type MethodSpec,
  type RescaleMode,
} from '../merge/methods';

export interface MergeJob {
  readonly base: string;
  readonly tasks: readonly { readonly name: string; readonly path: string }[];
  readonly method: MethodSpec;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const METHOD_ALIASES: Record<string, MethodName> = {
  emr: 'emr',
  avg: 'avg',
  linear: 'avg',
  ta: 'ta',
  task_arithmetic: 'ta',
  ties: 'ties',
};

export function parseMethod(name: string): MethodName {
  const m = Object.hasOwn(METHOD_ALIASES, name) ? METHOD_ALIASES[name] : undefined;
  if (!m) throw new UsageError(`unknown merge method "${name}" (use one of ${METHOD_NAMES.join(', ')})`);
  return m;
}

/** A task name from a file name: "vit-mnist.safetensors" → "vit-mnist"; HF's pytorch_model.bin → its folder. */
export function taskNameFromPath(path: string): string {
  if (isRemote(path)) return remoteTaskName(path);
  const name = basename(path).replace(
    /\.(safetensors\.index\.json|bin\.index\.json|index\.json|safetensors|onnx|bin|pt|pth|ckpt)$/i,
    '',
  );
  return name === 'model' || name === 'pytorch_model' ? basename(dirname(resolve(path))) : name;
}

/** `--task NAME=FILE` or `--task FILE`. */
export function parseTaskFlag(flag: string): { name: string; path: string } {
  const eq = flag.indexOf('=');
  if (eq === 0) throw new UsageError(`--task ${flag}: the task name is empty (give NAME=FILE, or FILE)`);
  if (eq > 0 && !flag.slice(0, eq).includes('/'))
    return { name: flag.slice(0, eq), path: flag.slice(eq + 1) };
  return { name: taskNameFromPath(flag), path: flag };
}

export function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x)) throw new UsageError(`--${name} wants a number, got "${value}"`);
  return x;
}

export function buildSpec(method: MethodName, params: MethodParams): MethodSpec {
  try {
    return methodSpec(method, params);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function refuseUnknown(where: string, obj: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new UsageError(
      `${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`,
    );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths in the YAML are relative to the YAML file. */
export function jobFromYaml(text: string, file: string): MergeJob {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc))
    throw new UsageError(`${file}: expected a mapping with merge_method, base_model and models`);
  refuseUnknown(file, doc, ['merge_method', 'base_model', 'models', 'parameters', 'dtype']);
  if (doc['dtype'] !== undefined)
    throw new UsageError(
      `${file}: "dtype" is not supported: each task's model is written in that task's own dtype`,
    );
  const here = dirname(file);
  const path = (p: unknown, what: string) => {
    if (typeof p !== 'string' || !p) throw new UsageError(`${file}: ${what} must be a path`);
    if (isRemote(p)) return p;
    const local = resolve(here, p);
    // As in mergekit, a model that is no local path but reads as `org/name[@rev]` is a Hub repo.
    if (!existsSync(local) && /^[\w.-]+\/[\w.-]+(@[^/\s]+)?$/.test(p)) return `hf://${p}`;
    return local;
  };
  const method = parseMethod(String(doc['merge_method'] ?? 'emr'));
  const base = path(doc['base_model'], 'base_model');
  const models = doc['models'];
  if (!Array.isArray(models))
    throw new UsageError(`${file}: models must be a list of {model: PATH, name: NAME}`);
  const tasks = models.map((m, i) => {
    if (typeof m === 'string') return { name: taskNameFromPath(m), path: path(m, `models[${i}]`) };
    if (!isRecord(m))
      throw new UsageError(`${file}: models[${i}] must be a path or {model: PATH, name: NAME}`);
    refuseUnknown(`${file}: models[${i}]`, m, ['model', 'name', 'parameters']);
    if (isRecord(m['parameters']) && Object.keys(m['parameters']).length) {
      throw new UsageError(
        `${file}: models[${i}].parameters: per-model parameters are not supported by ${method}; set them under the top-level parameters`,
      );
    }
    const p = path(m['model'], `models[${i}].model`);
    return { name: typeof m['name'] === 'string' ? m['name'] : taskNameFromPath(p), path: p };
  });
  const raw = doc['parameters'] ?? {};
  if (!isRecord(raw)) throw new UsageError(`${file}: parameters must be a mapping`);
  refuseUnknown(`${file}: parameters`, raw, ['lambda', 'k', 'density', 'topk', 'rescale']);
  const num = (k: string) => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw new UsageError(`${file}: parameters.${k} must be a number`);
    return v;
  };
  const k = num('k') ?? num('density') ?? num('topk');
  const rescale = raw['rescale'] as RescaleMode | undefined;
  return { base, tasks, method: buildSpec(method, { lambda: num('lambda'), k, rescale }) };
}
