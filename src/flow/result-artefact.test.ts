// Plan: every kind of result written out as its own artefact and read back over its model set is
// the result it was — EMR (bundle), each per-task kind (masked, switch, low-rank) and one-model
// methods (the paper's baselines, mergekit's): the same task models byte for byte, the same
// artefact written again (what Export hands out), the same statistics (λ, densities, TSV-C's
// energies, which the per-task artefact alone does not store), on F32 and BF16 sets with heads and a
// 0-dim tensor. A file of another kind is refused.
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { bytesSource } from '../formats/source';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge, type AnyMergeResult } from '../merge/merge';
import { anyMethodSpec } from '../merge/methods';
import { collectBytes, taskModel } from '../merge/task-model';
import { makeSet, randomLayers } from '../merge/testing/engine-suite';
import { ResultArtefactError, spilledResult, writeResultArtefact } from './result-artefact';

const engine = new CpuEngine();

function set(dtype: 'F32' | 'BF16') {
  const layers = randomLayers(11, 3, [[5, 13], [70], [1], [1, 9]]);
  layers.push({
    name: 'scale',
    shape: [],
    base: Float32Array.of(0.5),
    tasks: [0.25, 0.75, 0.5].map((x) => Float32Array.of(x)),
  });
  return makeSet(layers, 3, { dtype, heads: true });
}

const models = (r: AnyMergeResult) =>
  Promise.all(
    r.set.tasks.map((_, t) =>
      Promise.all(taskModel(r, t, engine).map(async (x) => Array.from(await collectBytes(x)))),
    ),
  );

async function artefact(r: AnyMergeResult) {
  const sink = new MemorySink('kept.safetensors');
  const size = await writeResultArtefact(r, sink);
  expect(size).toBe(sink.bytes().byteLength);
  return sink.bytes();
}

const CASES: [string, Record<string, unknown>][] = [
  ['emr', {}],
  ['tall_mask', { lambda: [0.3, 0.6, 1] }],
  ['consensus_ties', {}],
  ['t_switch', {}],
  ['tsv_c', {}],
  ['ta', { lambda: 0.4 }],
  ['ties_paper', {}],
  ['dare_ties', { density: 0.5 }],
];

describe('a kept result written out and read back', () => {
  for (const dtype of ['F32', 'BF16'] as const)
    for (const [name, params] of CASES)
      it(`${name} ${dtype}: the same result, bit for bit`, async () => {
        const result = await runMerge(set(dtype), anyMethodSpec(name, params), engine);
        const bytes = await artefact(result);
        const spilled = spilledResult(result);
        const back = await spilled.reopen(await openSafetensors(bytesSource(bytes, 'kept.safetensors')));
        expect(back.spec).toBe(result.spec);
        expect(back.set).toBe(result.set);
        expect(await models(back)).toEqual(await models(result));
        expect(await artefact(back)).toEqual(bytes);
        if ('lambdas' in back && 'lambdas' in result) {
          expect(back.lambdas).toEqual(result.lambdas);
          expect(back.tasks).toEqual(result.tasks);
          expect(back.values.location).toBe('memory');
          expect(back.tauUni).toEqual(result.tauUni);
          expect(back.masks).toEqual(result.masks);
        }
        if ('modulator' in back && 'modulator' in result) {
          expect(back.tasks).toEqual(result.tasks);
          expect(back.modulator).toEqual(result.modulator); // TSV-C's energies included
        }
        if ('merged' in back && 'merged' in result) expect(back.merged).toEqual(result.merged);
      });

  it('refuses an artefact of another kind', async () => {
    const s = set('F32');
    const ta = await runMerge(s, anyMethodSpec('ta', {}), engine);
    const emr = await runMerge(s, anyMethodSpec('emr', {}), engine);
    const bundle = await openSafetensors(bytesSource(await artefact(emr), 'bundle.safetensors'));
    await expect(spilledResult(ta).reopen(bundle)).rejects.toThrow(ResultArtefactError);
    const merged = await openSafetensors(bytesSource(await artefact(ta), 'merged.safetensors'));
    await expect(spilledResult(emr).reopen(merged)).rejects.toThrow(/not an EMR bundle/);
  });
});
