// Plan: PEFT adapter folders dropped in the studio. The grouping pairs adapter_model.safetensors
// with its adapter_config.json; the worker opens them as adapters (the card says LoRA, r, α),
// aligns them over the base, merges them to the in-process merge's λ, and reports the adapters'
// own size beside the bundle; an adapter of another model is refused beside its card.
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { CpuEngine } from '../../src/merge/cpu/engine';
import { runMerge, type EmrResult } from '../../src/merge/merge';
import { methodSpec } from '../../src/merge/methods';
import { buildModelSet } from '../../src/merge/model-set';
import { memoryCheckpoint } from '../../src/merge/testing/memory-checkpoint';
import { loraCheckpoint, parsePeftConfig } from '../../src/peft/lora';
import { groupFiles } from '../load/grouping';
import { StudioService, type PathedFile } from './service';

const values = (n: number, seed: number, scale = 1) => {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
  );
};
type T = { name: string; dtype: 'F32'; shape: number[]; values: Float32Array };
const baseTensors: T[] = [
  { name: 'blocks.0.attn.q.weight', dtype: 'F32', shape: [16, 8], values: values(128, 1) },
  { name: 'blocks.0.norm.weight', dtype: 'F32', shape: [8], values: values(8, 2) },
];
const adapterTensors = (seed: number, module = 'blocks.0.attn.q'): T[] => [
  {
    name: `base_model.model.${module}.lora_A.weight`,
    dtype: 'F32',
    shape: [2, 8],
    values: values(16, seed, 0.1),
  },
  {
    name: `base_model.model.${module}.lora_B.weight`,
    dtype: 'F32',
    shape: [16, 2],
    values: values(32, seed + 1, 0.1),
  },
];
const CONFIG = { peft_type: 'LORA', r: 2, lora_alpha: 4 };

async function file(path: string, tensors: T[]): Promise<PathedFile> {
  const sink = new MemorySink();
  await writeSafetensors(
    sink,
    tensors.map((t) => ({ ...t, bytes: new Uint8Array(t.values.buffer) })),
  );
  return { path, file: new Blob([sink.bytes()]) };
}
const json = (path: string, value: unknown): PathedFile => ({
  path,
  file: new Blob([JSON.stringify(value)]),
});

describe('PEFT adapters in the studio', () => {
  it('group, open, align and merge like the in-process merge of the same adapters', async () => {
    const dropped = [
      await file('base.safetensors', baseTensors),
      ...(
        await Promise.all(
          ['a', 'b', 'other'].map(async (name, i) => [
            json(`${name}/adapter_config.json`, CONFIG),
            await file(
              `${name}/adapter_model.safetensors`,
              adapterTensors(10 * (i + 1), name === 'other' ? 'decoder.k' : undefined),
            ),
          ]),
        )
      ).flat(),
    ];
    const { groups, skipped } = groupFiles(dropped);
    expect(skipped).toEqual([]);
    expect(groups.map((g) => [g.primary.path, g.companions.map((c) => c.path)])).toEqual([
      ['base.safetensors', []],
      ['a/adapter_model.safetensors', ['a/adapter_config.json']],
      ['b/adapter_model.safetensors', ['b/adapter_config.json']],
      ['other/adapter_model.safetensors', ['other/adapter_config.json']],
    ]);
    const service = new StudioService();
    const ids = ['base', 'a', 'b', 'other'];
    for (const [i, g] of groups.entries()) {
      const outcome = await service.open(ids[i] as string, g.primary, g.companions);
      if (!outcome.ok) throw new Error(outcome.message);
      if (i > 0) expect(outcome.summary.peft).toEqual({ type: 'LORA', r: 2, alpha: 4 });
    }
    const selection = { baseId: 'base', tasks: ['a', 'b', 'other'].map((id) => ({ id, name: id })) };
    const aligned = service.align(selection);
    if (!aligned.ok) throw new Error(aligned.message);
    expect(aligned.refused).toEqual([
      {
        id: 'other',
        message: expect.stringContaining('decoder.k.weight, which the base does not have'),
        differing: [],
      },
    ]);
    expect(aligned.report.shared.map((s) => s.name)).toEqual([
      'blocks.0.attn.q.weight',
      'blocks.0.norm.weight',
    ]);

    const merged = await service.merge(
      { ...selection, tasks: selection.tasks.slice(0, 2) },
      methodSpec('emr'),
      'cpu',
      () => {},
    );
    if (!merged.ok) throw new Error(merged.message);
    const base = memoryCheckpoint('base', baseTensors);
    const config = parsePeftConfig(JSON.stringify(CONFIG));
    const reference = (await runMerge(
      buildModelSet(
        base,
        [10, 20].map((seed, i) => ({
          name: ['a', 'b'][i] as string,
          checkpoint: loraCheckpoint(base, memoryCheckpoint('x', adapterTensors(seed)), config),
        })),
      ),
      methodSpec('emr'),
      new CpuEngine(),
    )) as EmrResult;
    expect(merged.summary.tasks.map((t) => t.lambda)).toEqual(reference.lambdas);
    const adapterFiles = groups
      .slice(1, 3)
      .reduce((a, g) => a + g.primary.file.size + (g.companions[0]?.file.size ?? 0), 0);
    expect(merged.summary.storage.adapterBytes).toBe(adapterFiles);
    expect(merged.summary.storage.taskModelsBytes).toBe(2 * (128 + 8) * 4); // two full models
    // The adapters adapt q alone: norm.weight is the base's own tensor in both tasks (untouched,
    // τ = 0), which the heatmap shows apart from a mask that is empty by disagreement.
    expect(merged.summary.tensors.map((t) => [t.name, t.untouched])).toEqual([
      ['blocks.0.attn.q.weight', undefined],
      ['blocks.0.norm.weight', [true, true]],
    ]);
  });

  it('refuses a broken adapter_config.json when the folder opens', async () => {
    const service = new StudioService();
    const outcome = await service.open('x', await file('x/adapter_model.safetensors', adapterTensors(1)), [
      json('x/adapter_config.json', { peft_type: 'LOHA' }),
    ]);
    expect(outcome).toEqual({
      ok: false,
      message: 'x/adapter_config.json: peft_type "LOHA" is not one we merge (LORA, IA3)',
    });
  });
});
