// A per-task method's artefact: everything needed to rebuild any task's model from the base, in
// one safetensors file like the EMR bundle — the shared part once, the per-task part packed.
//   TALL masks  tau/<tensor> (F32 τ_MTL), mask/<task>/<tensor> (U8, 1 bit an element)
//   Consensus   tau/<tensor>, mask/consensus/<tensor>; α in the manifest
//   T-Switch    keep/<task>/<tensor>, sign/<task>/<tensor> (U8 bits), scale/<task> (F32, one per
//               shared tensor in manifest order)
//   TSV-C       u/<task>/<tensor> (F32 rows×k), s/<task>/<tensor> (F32 k), v/<task>/<tensor>
//               (F32 k×cols) per 2-D shared tensor, as compress_tv keeps them; tau/<task>/<tensor>
//               (F32, the task's own τ) per other shared tensor
//   every kind  task/<task>/<tensor>: the task-specific tensors (heads), as stored
// The manifest in __metadata__ has the EMR bundle's shared and task lists. Layout and rules:
// docs/bundle-format.md#per-task-artefacts.
import { FormatError } from '../../formats/errors';
import { createSafetensorsWriter } from '../../formats/safetensors';
import type { ByteSink } from '../../formats/sink';
import { tensorName, type Checkpoint, type TensorEntry, type TensorName } from '../../formats/tensor';
import { BundleError, bundleModelSet, taskTensorKey } from '../bundle';
import { BUNDLE_VERSION, parseBundleManifest } from '../bundle-manifest';
import type { LowRankTensor, PerTaskModulator, PerTaskResult } from './result';
import { defaultSvReduction, isPerTaskMethod, perTaskRecipe, perTaskSpec } from './spec';
import { tsvcRank } from './lowrank';
import { isTsvcMatrix } from './tsvc';

export const PERTASK_FORMAT = 'merge-studio/pertask';
export const PERTASK_VERSION = '1';

export const isPerTaskArtefact = (c: Checkpoint): boolean => c.metadata.get('format') === PERTASK_FORMAT;

const maskName = (result: PerTaskResult, j: number) =>
  result.modulator.kind === 'masked' && result.modulator.maskCount === 1
    ? 'consensus'
    : (result.set.tasks[j]?.name as string);

/** Bits as stored: bit i in byte i >> 3 at bit i & 7 (the u32 words' little-endian bytes). */
const bitBytes = (words: Uint32Array, numel: number) =>
  new Uint8Array(words.buffer, words.byteOffset, words.byteLength).subarray(0, Math.ceil(numel / 8));

interface ArtefactTensor {
  readonly name: string;
  readonly dtype: 'F32' | 'U8' | TensorEntry['dtype'];
  readonly shape: readonly number[];
  bytes(): Promise<Uint8Array>;
}

function manifestOf(result: PerTaskResult) {
  const shared = new Set<string>(result.set.shared.map((s) => s.name));
  const m = result.modulator;
  return {
    format: PERTASK_FORMAT,
    version: PERTASK_VERSION,
    method: perTaskRecipe(result.spec),
    includesTaskSpecific: true,
    shared: result.set.shared.map((s) => ({ name: s.name, shape: s.shape, baseDtype: s.base.dtype })),
    tasks: result.set.tasks.map((task, t) => ({
      name: task.name,
      density: result.tasks[t]?.density ?? 0,
      ...(m.kind === 'masked' ? { mask: maskName(result, m.maskOf[t] as number), alpha: m.alphas[t] } : {}),
      tensors: [...task.checkpoint.tensors.values()].map((e) => ({
        name: e.name,
        dtype: e.dtype,
        shape: e.shape,
        shared: shared.has(e.name),
      })),
    })),
  };
}

function artefactTensors(result: PerTaskResult): ArtefactTensor[] {
  const out: ArtefactTensor[] = [];
  const { set } = result;
  const m = result.modulator;
  const words = (numel: number) => Math.ceil(numel / 32);
  if (m.kind === 'masked') {
    for (const s of set.shared) {
      const tau = m.tau.get(s.name) as Float32Array;
      out.push({
        name: `tau/${s.name}`,
        dtype: 'F32',
        shape: s.shape,
        bytes: async () => new Uint8Array(tau.buffer, tau.byteOffset, tau.byteLength),
      });
    }
    for (let j = 0; j < m.maskCount; j++)
      for (const s of set.shared) {
        const all = m.masks.get(s.name) as Uint32Array;
        const w = words(s.numel);
        out.push({
          name: `mask/${maskName(result, j)}/${s.name}`,
          dtype: 'U8',
          shape: [Math.ceil(s.numel / 8)],
          bytes: async () => bitBytes(all.subarray(j * w, (j + 1) * w), s.numel),
        });
      }
  }
  const f32Bytes = (a: Float32Array) => async () => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  set.tasks.forEach((task, t) => {
    if (m.kind === 'lowrank')
      for (const s of set.shared) {
        const f = m.factors.get(s.name);
        if (f) {
          const { rows, cols, rank } = f;
          for (const [kind, shape, a] of [
            ['u', [rows, rank], f.u[t]],
            ['s', [rank], f.s[t]],
            ['v', [rank, cols], f.vt[t]],
          ] as const)
            out.push({
              name: `${kind}/${task.name}/${s.name}`,
              dtype: 'F32',
              shape,
              bytes: f32Bytes(a as Float32Array),
            });
        } else {
          const tau = (m.dense.get(s.name) as Float32Array).subarray(t * s.numel, (t + 1) * s.numel);
          out.push({
            name: `tau/${task.name}/${s.name}`,
            dtype: 'F32',
            shape: s.shape,
            bytes: f32Bytes(tau),
          });
        }
      }
    if (m.kind === 'switch') {
      for (const [kind, map] of [
        ['keep', m.keep],
        ['sign', m.sign],
      ] as const)
        for (const s of set.shared) {
          const w = words(s.numel);
          const all = map.get(s.name) as Uint32Array;
          out.push({
            name: `${kind}/${task.name}/${s.name}`,
            dtype: 'U8',
            shape: [Math.ceil(s.numel / 8)],
            bytes: async () => bitBytes(all.subarray(t * w, (t + 1) * w), s.numel),
          });
        }
      const scales = Float32Array.from(
        set.shared,
        (s) => (m.scales.get(s.name) as Float32Array)[t] as number,
      );
      out.push({
        name: `scale/${task.name}`,
        dtype: 'F32',
        shape: [scales.length],
        bytes: async () => new Uint8Array(scales.buffer),
      });
    }
    for (const e of set.passThrough[t] ?? [])
      out.push({
        name: taskTensorKey(task.name, e.name),
        dtype: e.dtype,
        shape: e.shape,
        bytes: () => e.data.read(0, e.byteLength),
      });
  });
  return out;
}

/** Writes the artefact of a per-task result; returns its size on disk. */
export async function writePerTaskArtefact(result: PerTaskResult, sink: ByteSink): Promise<number> {
  const tensors = artefactTensors(result);
  let bytes = 0;
  const counted: ByteSink = {
    name: sink.name,
    write: (b) => ((bytes += b.byteLength), sink.write(b)),
    close: () => sink.close(),
  };
  const writer = await createSafetensorsWriter(counted, tensors, {
    format: PERTASK_FORMAT,
    manifest: JSON.stringify(manifestOf(result)),
  });
  for (const t of tensors) await writer.write(t.name, await t.bytes());
  await writer.close();
  return bytes;
}

/** The words of a stored bit tensor, completed with zeros to whole u32 words. */
async function bits(bundle: Checkpoint, file: string, key: string, numel: number): Promise<Uint32Array> {
  const e = need(bundle, file, key);
  if (e.dtype !== 'U8' || e.byteLength !== Math.ceil(numel / 8))
    throw new BundleError(`${file}: ${key} is not ${Math.ceil(numel / 8)} U8 bytes of bits`);
  const out = new Uint32Array(Math.ceil(numel / 32));
  new Uint8Array(out.buffer).set(await e.data.read(0, e.byteLength));
  return out;
}

function need(bundle: Checkpoint, file: string, key: string): TensorEntry {
  const e = bundle.tensors.get(tensorName(key));
  if (!e) throw new BundleError(`${file}: the artefact has no tensor ${key}`);
  return e;
}

async function f32s(bundle: Checkpoint, file: string, key: string, numel: number): Promise<Float32Array> {
  const e = need(bundle, file, key);
  if (e.dtype !== 'F32' || e.byteLength !== numel * 4)
    throw new BundleError(`${file}: ${key} is not ${numel} F32 values`);
  return new Float32Array((await e.data.read(0, e.byteLength)).slice().buffer);
}

/**
 * Rebuilds a per-task result from its artefact and the base it was made from, so that the task
 * models come out exactly as the merge wrote them. Everything is checked before use: a bad
 * manifest or a missing or mis-sized tensor is a FormatError / BundleError naming the file.
 */
export async function openPerTaskArtefact(bundle: Checkpoint, base: Checkpoint): Promise<PerTaskResult> {
  const file = bundle.files[0] ?? 'artefact';
  const fail = (problem: string): never => {
    throw new FormatError('header-json', file, `the per-task artefact's manifest: ${problem}`);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(bundle.metadata.get('manifest') ?? '') as Record<string, unknown>;
  } catch (e) {
    throw new FormatError('header-json', file, "the per-task artefact's manifest is not valid JSON", {
      cause: e,
    });
  }
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  if (raw['version'] !== PERTASK_VERSION)
    throw new FormatError(
      'unsupported',
      file,
      `per-task artefact version ${String(raw['version'])} is not supported (this build reads ${PERTASK_VERSION})`,
    );
  const method = raw['method'] as { merge_method?: unknown; parameters?: unknown } | null;
  const name = method?.merge_method;
  if (typeof name !== 'string' || !isPerTaskMethod(name))
    fail(`method ${JSON.stringify(method)} is not a per-task method`);
  let spec;
  try {
    spec = perTaskSpec(name as never, (method?.parameters ?? {}) as Record<string, unknown>);
  } catch (e) {
    return fail(`method parameters: ${(e as Error).message}`);
  }
  const tasksRaw = Array.isArray(raw['tasks'])
    ? (raw['tasks'] as Record<string, unknown>[])
    : fail('tasks is not a list');
  // The shared and task lists have the EMR bundle's layout: checked (the EMR-only fields filled
  // with placeholders), and the model set rebuilt over the base, by the bundle's own code.
  const emrShaped = {
    ...raw,
    version: BUNDLE_VERSION,
    method: { method: 'emr', rescale: 'tensor-mean' },
    tasks: tasksRaw.map((t) => ({ ...t, lambda: 1, lambdaDefaulted: false })),
  };
  const lists = parseBundleManifest(JSON.stringify(emrShaped), file);
  const { set } = bundleModelSet(bundle, base, lists);
  const n = set.tasks.length;
  let modulator: PerTaskModulator;
  if (spec.method === 'tsv_c') {
    const svReduction = spec.svReduction ?? defaultSvReduction(n);
    const factors = new Map<TensorName, LowRankTensor>();
    const dense = new Map<TensorName, Float32Array>();
    for (const s of set.shared) {
      if (!isTsvcMatrix(s)) {
        const all = new Float32Array(n * s.numel);
        for (const [t, task] of set.tasks.entries())
          all.set(await f32s(bundle, file, `tau/${task.name}/${s.name}`, s.numel), t * s.numel);
        dense.set(s.name, all);
        continue;
      }
      const [rows, cols] = s.shape as [number, number];
      const rank = tsvcRank(rows, cols, svReduction);
      const of = (kind: string, numel: number) =>
        Promise.all(set.tasks.map((task) => f32s(bundle, file, `${kind}/${task.name}/${s.name}`, numel)));
      const [u, sv, vt] = [await of('u', rows * rank), await of('s', rank), await of('v', rank * cols)];
      factors.set(s.name, { rows, cols, rank, u, s: sv, vt });
    }
    modulator = { kind: 'lowrank', factors, dense };
  } else if (spec.method === 't_switch') {
    const keep = new Map<TensorName, Uint32Array>();
    const sign = new Map<TensorName, Uint32Array>();
    const scales = new Map<TensorName, Float32Array>();
    const perTask = await Promise.all(
      set.tasks.map((task) => f32s(bundle, file, `scale/${task.name}`, set.shared.length)),
    );
    for (const [i, s] of set.shared.entries()) {
      const w = Math.ceil(s.numel / 32);
      const k = new Uint32Array(n * w);
      const g = new Uint32Array(n * w);
      for (const [t, task] of set.tasks.entries()) {
        k.set(await bits(bundle, file, `keep/${task.name}/${s.name}`, s.numel), t * w);
        g.set(await bits(bundle, file, `sign/${task.name}/${s.name}`, s.numel), t * w);
      }
      keep.set(s.name, k);
      sign.set(s.name, g);
      scales.set(
        s.name,
        Float32Array.from(perTask, (p) => p[i] as number),
      );
    }
    modulator = { kind: 'switch', keep, sign, scales };
  } else {
    const consensus = spec.method !== 'tall_mask';
    const maskNames = consensus ? ['consensus'] : set.tasks.map((t) => t.name);
    const alphas = tasksRaw.map((t) => t['alpha']);
    if (!alphas.every((a) => typeof a === 'number' && Number.isFinite(a))) fail('a task has no finite alpha');
    if (!tasksRaw.every((t) => t['mask'] === (consensus ? 'consensus' : t['name'])))
      fail(`each task's mask must be ${consensus ? '"consensus"' : 'its own'}`);
    const tau = new Map<TensorName, Float32Array>();
    const masks = new Map<TensorName, Uint32Array>();
    for (const s of set.shared) {
      tau.set(s.name, await f32s(bundle, file, `tau/${s.name}`, s.numel));
      const w = Math.ceil(s.numel / 32);
      const all = new Uint32Array(maskNames.length * w);
      for (const [j, m] of maskNames.entries())
        all.set(await bits(bundle, file, `mask/${m}/${s.name}`, s.numel), j * w);
      masks.set(s.name, all);
    }
    modulator = {
      kind: 'masked',
      tau,
      masks,
      maskCount: maskNames.length,
      maskOf: set.tasks.map((_, t) => (consensus ? 0 : t)),
      alphas: alphas as number[],
    };
  }
  return {
    spec,
    set,
    modulator,
    tasks: set.tasks.map((task, t) => ({
      task: task.name,
      density: Number(tasksRaw[t]?.['density'] ?? Number.NaN),
    })),
    bytesRead: 0,
  };
}
