// Plan: each per-task method's artefact, written and read back with the base, rebuilds every task's
// model byte for byte as the merge wrote it (F32 and BF16 sets, a head of another shape per task,
// a 0-dim tensor); masks and sign bits take one bit an element; a missing tensor, a bad manifest,
// another version and the wrong base are refused naming the file. And the λ_t grid choice of
// TALL masks: the λ the evaluator prefers wins per task, the first best on ties, and the chosen
// result equals a merge run with those λ_t.
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../formats/errors';
import { openSafetensors } from '../../formats/safetensors';
import { MemorySink } from '../../formats/sink';
import { bytesSource } from '../../formats/source';
import type { Checkpoint } from '../../formats/tensor';
import { BundleError } from '../bundle';
import { CpuEngine } from '../cpu/engine';
import { runMerge } from '../merge';
import { makeSet, randomLayers } from '../testing/engine-suite';
import { collectBytes, taskModel } from '../task-model';
import { isPerTaskArtefact, openPerTaskArtefact, writePerTaskArtefact } from './artefact';
import type { PerTaskResult } from './result';
import { chooseConsensusAlpha, chooseTallLambdas } from './select';
import { perTaskSpec, type PerTaskMethod } from './spec';

const engine = new CpuEngine();

function set(dtype: 'F32' | 'BF16' = 'F32') {
  // [1, 9]: TSV-C keeps int(1 · sv_reduction) = 0 components of it (zero-size factors).
  const layers = randomLayers(7, 3, [[5, 13], [70], [1], [1, 9]]);
  layers.push({
    name: 'scale',
    shape: [],
    base: Float32Array.of(0.5),
    tasks: [0.25, 0.75, 0.5].map((x) => Float32Array.of(x)),
  });
  return makeSet(layers, 3, { dtype, heads: true });
}

async function models(result: PerTaskResult): Promise<number[][][]> {
  return Promise.all(
    result.set.tasks.map((_, t) =>
      Promise.all(taskModel(result, t, engine).map(async (x) => Array.from(await collectBytes(x)))),
    ),
  );
}

async function roundTrip(result: PerTaskResult): Promise<{ bundle: Checkpoint; bytes: Uint8Array }> {
  const sink = new MemorySink('artefact.safetensors');
  const size = await writePerTaskArtefact(result, sink);
  expect(size).toBe(sink.bytes().byteLength);
  return {
    bundle: await openSafetensors(bytesSource(sink.bytes(), 'artefact.safetensors')),
    bytes: sink.bytes(),
  };
}

const CASES: [PerTaskMethod, Record<string, unknown>][] = [
  ['tall_mask', { lambda: [0.3, 0.6, 1] }],
  ['tall_mask', { tall_base: 'ties' }],
  ['consensus_ta', { k: 2, tall_lambda: 0.4, lambda: 0.5 }],
  ['consensus_ties', {}],
  ['t_switch', {}],
  ['tsv_c', {}],
  ['tsv_c', { sv_reduction: 0.5 }],
];

describe('per-task artefacts', () => {
  for (const dtype of ['F32', 'BF16'] as const)
    for (const [method, params] of CASES)
      it(`${method} ${JSON.stringify(params)} ${dtype}: apply rebuilds every task bit for bit`, async () => {
        const s = set(dtype);
        const result = await runMerge(s, perTaskSpec(method, params), engine);
        const { bundle } = await roundTrip(result);
        expect(isPerTaskArtefact(bundle)).toBe(true);
        const back = await openPerTaskArtefact(bundle, s.base);
        expect(back.spec).toEqual(result.spec);
        expect(await models(back)).toEqual(await models(result));
        // one bit an element: masks/keep/sign tensors are ⌈numel/8⌉ bytes
        for (const [name, e] of bundle.tensors)
          if (/^(mask|keep|sign)\//.test(name)) expect(e.dtype).toBe('U8');
        if (method === 'tsv_c') {
          // compress_tv's f32 u[:, :k], s[:k], v[:k, :] per 2-D tensor (k = int(5 · 1/3) = 1, or
          // int(5 · 0.5) = 2; int(1 · …) = 0), each task's own τ for the others.
          const k = params['sv_reduction'] === 0.5 ? 2 : 1;
          const shapes = Object.fromEntries(
            [...bundle.tensors]
              .filter(([name]) => name.includes('/task1/'))
              .map(([name, e]) => [name, [e.dtype, ...e.shape]]),
          );
          expect(shapes).toMatchObject({
            'u/task1/layers.0.weight': ['F32', 5, k],
            's/task1/layers.0.weight': ['F32', k],
            'v/task1/layers.0.weight': ['F32', k, 13],
            'tau/task1/layers.1.weight': ['F32', 70],
            'u/task1/layers.3.weight': ['F32', 1, 0],
            'v/task1/layers.3.weight': ['F32', 0, 9],
          });
        }
      });

  it('refuses a missing tensor, a bad manifest, another version and the wrong base by name', async () => {
    const s = set();
    const result = await runMerge(s, perTaskSpec('t_switch'), engine);
    const { bundle } = await roundTrip(result);
    const without = new Map(bundle.tensors);
    without.delete([...without.keys()].find((k) => k.startsWith('sign/')) as never);
    await expect(openPerTaskArtefact({ ...bundle, tensors: without }, s.base)).rejects.toThrow(BundleError);
    const withManifest = (m: string) => ({
      ...bundle,
      metadata: new Map([...bundle.metadata, ['manifest', m]]),
    });
    await expect(openPerTaskArtefact(withManifest('{'), s.base)).rejects.toThrow(
      /artefact.safetensors: .*not valid JSON/,
    );
    const manifest = JSON.parse(bundle.metadata.get('manifest') as string) as Record<string, unknown>;
    await expect(
      openPerTaskArtefact(withManifest(JSON.stringify({ ...manifest, version: '9' })), s.base),
    ).rejects.toThrow(FormatError);
    await expect(
      openPerTaskArtefact(
        withManifest(JSON.stringify({ ...manifest, method: { merge_method: 'emr' } })),
        s.base,
      ),
    ).rejects.toThrow(/not a per-task method/);
    const other = set('BF16').base;
    await expect(openPerTaskArtefact(bundle, other)).rejects.toThrow(
      /not the base this bundle was made from/,
    );
  });
});

describe('streaming', () => {
  it('TALL masks and Consensus by chunks of 32 elements (a tiny budget): the same bits as one chunk a tensor', async () => {
    const s = set();
    for (const [method, params] of CASES.filter(([m]) => m !== 't_switch')) {
      const spec = perTaskSpec(method, params);
      const small = await runMerge(s, spec, engine, { budgetBytes: 1 });
      const large = await runMerge(s, spec, engine);
      expect(await models(small)).toEqual(await models(large));
      expect(small.ties).toEqual(large.ties);
    }
  });
});

describe('choices made on labeled data', () => {
  it('TALL masks: each task gets the λ_t its evaluator prefers (the first best on ties)', async () => {
    const s = set();
    const want = [0.4, 0.2, 0.6];
    const spec = perTaskSpec('tall_mask', {}) as Extract<
      ReturnType<typeof perTaskSpec>,
      { method: 'tall_mask' }
    >;
    const choice = await chooseTallLambdas(s, spec, async (r, t) =>
      t === 1 ? 1 : -Math.abs((r.tasks[t]?.lambda as number) - (want[t] as number)),
    );
    expect(choice.chosen).toEqual(want);
    expect(choice.scores).toHaveLength(5);
    const direct = await runMerge(s, perTaskSpec('tall_mask', { lambda: want }), engine);
    expect(await models(choice.result)).toEqual(await models(direct));
    expect(choice.result.spec).toEqual(direct.spec);
  });

  it('Consensus: α with the best mean score wins, one merge for every α', async () => {
    const s = set();
    const result = await runMerge(s, perTaskSpec('consensus_ta', {}), engine);
    const choice = await chooseConsensusAlpha(
      result,
      async (r) => -Math.abs((r.spec as { lambda: number }).lambda - 0.7),
    );
    expect(choice.alpha).toBe(0.7);
    const direct = await runMerge(s, perTaskSpec('consensus_ta', { lambda: 0.7 }), engine);
    expect(await models(choice.result)).toEqual(await models(direct));
  });
});
