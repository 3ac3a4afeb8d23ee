// A merge result written out as its own artefact and read back, bit for bit: what the studio does
// with a kept result that no longer fits its memory budget (app/worker/kept-results.ts). Each kind
// goes through the writer and reader it already has — EMR's bundle (../merge/bundle.ts), a per-task
// method's artefact (../merge/pertask/artefact.ts), and for a one-model method its merged f32
// values as a safetensors file (the task models' own dtype may be narrower, so they would not
// round-trip). What stays in memory meanwhile is the result's light part: its spec, model set and
// statistics; the reader rebuilds only the heavy part over that same model set, so the task models,
// the exports and the statistics Inspect draws are those of the result before it was written out.
import { createSafetensorsWriter } from '../formats/safetensors';
import type { ByteSink } from '../formats/sink';
import { tensorName, type Checkpoint, type TensorName } from '../formats/tensor';
import { openBundle, writeBundle } from '../merge/bundle';
import { maskWords } from '../merge/cpu/kernels';
import { memoryValues } from '../merge/emr-values';
import { isEmr, type AnyMergeResult, type EmrResult } from '../merge/merge';
import { openPerTaskArtefact, writePerTaskArtefact } from '../merge/pertask/artefact';
import { isPerTaskResult, type PerTaskModulator, type PerTaskResult } from '../merge/pertask/result';

/** The `format` of a one-model result's artefact: its merged values, F32, one tensor per shared name. */
export const MERGED_FORMAT = 'merge-studio/merged-f32';

export class ResultArtefactError extends Error {
  override readonly name = 'ResultArtefactError';
}

type Merged = Exclude<AnyMergeResult, EmrResult | PerTaskResult>;

/** Writes the artefact `result` is read back from; returns its size in bytes. */
export async function writeResultArtefact(result: AnyMergeResult, sink: ByteSink): Promise<number> {
  if (isEmr(result)) return (await writeBundle(result, sink)).bundleBytes;
  if (isPerTaskResult(result)) return writePerTaskArtefact(result, sink);
  const merged = [...(result as Merged).merged];
  const specs = merged.map(([name, a]) => ({ name, dtype: 'F32' as const, shape: [a.length] }));
  let bytes = 0;
  const counted: ByteSink = {
    name: sink.name,
    write: (b) => ((bytes += b.byteLength), sink.write(b)),
    close: () => sink.close(),
  };
  const writer = await createSafetensorsWriter(counted, specs, { format: MERGED_FORMAT });
  for (const [name, a] of merged)
    await writer.write(name, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  await writer.close();
  return bytes;
}

/**
 * What of `result` stays in memory once its artefact is written, and how it comes back: `reopen`
 * reads the artefact (opened as a checkpoint) over the same model set and gives the result as it
 * was — EMR's τ_uni and masks, a per-task modulator (TSV-C's energies kept from before: the artefact
 * does not store them) or the merged values, in memory again. The closure holds no heavy part.
 */
export function spilledResult(result: AnyMergeResult): {
  reopen(artefact: Checkpoint): Promise<AnyMergeResult>;
} {
  if (isEmr(result)) {
    const { values: _v, tauUni: _t, masks: _m, ...light } = result;
    return { reopen: (artefact) => reopenEmr(light, artefact) };
  }
  if (isPerTaskResult(result)) {
    const { modulator, ...light } = result;
    const energies = energiesOf(modulator);
    return {
      async reopen(artefact) {
        const back = await openPerTaskArtefact(artefact, light.set.base);
        return { ...light, modulator: withEnergies(back.modulator, energies) };
      },
    };
  }
  const { merged, ...light } = result as Merged;
  const names = [...merged.keys()];
  return {
    async reopen(artefact) {
      if (artefact.metadata.get('format') !== MERGED_FORMAT)
        throw new ResultArtefactError(`${artefact.files[0] ?? 'artefact'}: not a merged model's artefact`);
      const back = new Map<TensorName, Float32Array>();
      for (const name of names) {
        const e = artefact.tensors.get(tensorName(name));
        if (!e || e.dtype !== 'F32')
          throw new ResultArtefactError(`${artefact.files[0] ?? 'artefact'}: no F32 tensor ${name}`);
        back.set(name, new Float32Array((await e.data.read(0, e.byteLength)).slice().buffer));
      }
      return { ...light, merged: back } as Merged;
    },
  };
}

/** EMR: the bundle read back, and τ_uni and the masks copied into memory as the merge held them. */
async function reopenEmr(
  light: Omit<EmrResult, 'values' | 'tauUni' | 'masks'>,
  artefact: Checkpoint,
): Promise<EmrResult> {
  const { values } = await openBundle(artefact, light.set.base);
  const n = light.set.tasks.length;
  const tauUni = new Map<TensorName, Float32Array>();
  const masks = new Map<TensorName, Uint32Array>();
  for (const s of light.set.shared) {
    tauUni.set(s.name, (await values.tau(s.name, 0, s.numel)).slice());
    const w = maskWords(s.numel);
    const all = new Uint32Array(n * w);
    for (let t = 0; t < n; t++) all.set(await values.mask(s.name, t, 0, w), t * w);
    masks.set(s.name, all);
  }
  return { ...light, values: memoryValues(tauUni, masks), tauUni, masks };
}

function energiesOf(m: PerTaskModulator): ReadonlyMap<TensorName, readonly number[]> {
  const out = new Map<TensorName, readonly number[]>();
  if (m.kind === 'lowrank') for (const [name, f] of m.factors) if (f.energy) out.set(name, f.energy);
  return out;
}

function withEnergies(
  m: PerTaskModulator,
  energies: ReadonlyMap<TensorName, readonly number[]>,
): PerTaskModulator {
  if (m.kind !== 'lowrank' || energies.size === 0) return m;
  const factors = new Map(
    [...m.factors].map(([name, f]) => {
      const energy = energies.get(name);
      return [name, energy ? { ...f, energy } : f] as const;
    }),
  );
  return { ...m, factors };
}
