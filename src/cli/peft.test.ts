// Plan: LoRA adapter folders as `--task` on the command line — a folder or its adapter_config.json —
// merge over the base into full task models whose weights are W + s·B·A merged, with the same λ
// as the in-process merge of the same adapters; a broken adapter folder is one clear line.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge, type EmrResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { loraCheckpoint, parsePeftConfig } from '../peft/lora';
import { runCli } from './testing';

const values = (n: number, seed: number, scale = 1) => {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
  );
};
const tensors = {
  base: [
    { name: 'layer.q.weight', dtype: 'F32' as const, shape: [16, 8], values: values(128, 1) },
    { name: 'layer.norm.weight', dtype: 'F32' as const, shape: [8], values: values(8, 2) },
  ],
  adapter: (seed: number) => [
    {
      name: 'base_model.model.layer.q.lora_A.weight',
      dtype: 'F32' as const,
      shape: [2, 8],
      values: values(16, seed, 0.1),
    },
    {
      name: 'base_model.model.layer.q.lora_B.weight',
      dtype: 'F32' as const,
      shape: [16, 2],
      values: values(32, seed + 1, 0.1),
    },
  ],
};
const CONFIG = { peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q'], fan_in_fan_out: false };

async function safetensors(
  path: string,
  list: { name: string; dtype: 'F32'; shape: number[]; values: Float32Array }[],
) {
  const sink = new MemorySink();
  await writeSafetensors(
    sink,
    list.map((t) => ({ ...t, bytes: new Uint8Array(t.values.buffer) })),
  );
  await writeFile(path, sink.bytes());
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-peft-'));
  await safetensors(join(dir, 'base.safetensors'), tensors.base);
  for (const [name, seed] of [
    ['a', 10],
    ['b', 20],
    ['c', 30],
  ] as const) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'adapter_config.json'), JSON.stringify(CONFIG));
    await safetensors(join(dir, name, 'adapter_model.safetensors'), tensors.adapter(seed));
  }
  await mkdir(join(dir, 'broken'));
  await writeFile(join(dir, 'broken', 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: -1 }));
  await writeFile(join(dir, 'broken', 'adapter_model.safetensors'), new Uint8Array(8));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('merge-studio merge with LoRA adapters', () => {
  it('merges adapter folders into full task models, with the in-process λ', async () => {
    const out = join(dir, 'out');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(dir, 'base.safetensors'),
      '--task',
      `a=${join(dir, 'a')}`,
      '--task',
      `b=${join(dir, 'b', 'adapter_config.json')}`,
      '--task',
      `c=${join(dir, 'c')}`,
      '--out',
      out,
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      'a.safetensors',
      'b.safetensors',
      'c.safetensors',
      'emr-bundle.safetensors',
    ]);
    const base = memoryCheckpoint('base', tensors.base);
    const config = parsePeftConfig(JSON.stringify(CONFIG));
    const tasks = await Promise.all(
      (['a', 'b', 'c'] as const).map(async (name, i) => ({
        name,
        checkpoint: await loraCheckpoint(base, memoryCheckpoint(name, tensors.adapter(10 * (i + 1))), config),
      })),
    );
    const reference = (await runMerge(
      buildModelSet(base, tasks),
      methodSpec('emr'),
      new CpuEngine(),
    )) as EmrResult;
    const summary = JSON.parse(r.out) as { tasks: { name: string; lambda: number }[] };
    expect(summary.tasks.map((t) => t.lambda)).toEqual(reference.lambdas);
  });

  it('refuses a broken adapter folder in one line', async () => {
    const r = await runCli([
      'merge',
      '--base',
      join(dir, 'base.safetensors'),
      '--task',
      `a=${join(dir, 'a')}`,
      '--task',
      `x=${join(dir, 'broken')}`,
      '--out',
      join(dir, 'never'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(
      `merge-studio: ${join(dir, 'broken', 'adapter_config.json')}: r must be a positive number, got -1`,
    );
  });
});
