// Plan: `merge --engine gpu` with LoRA adapter folders computes the adapters' deltas with the GPU
// LoRA kernel (dawn.node; SwiftShader here) and writes the very bytes `--engine cpu` writes (Task
// Arithmetic, whose weights both engines give bit for bit); `--engine cpu` never touches it.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { GpuLoraKernel } from '../gpu/lora';
import { runCli } from './testing';

const values = (n: number, seed: number, scale = 1) => {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
  );
};

async function safetensors(path: string, list: { name: string; shape: number[]; values: Float32Array }[]) {
  const sink = new MemorySink();
  await writeSafetensors(
    sink,
    list.map((t) => ({ ...t, dtype: 'F32' as const, bytes: new Uint8Array(t.values.buffer) })),
  );
  await writeFile(path, sink.bytes());
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-lora-gpu-'));
  await safetensors(join(dir, 'base.safetensors'), [
    { name: 'layer.q.weight', shape: [40, 33], values: values(40 * 33, 1) },
    { name: 'layer.norm.weight', shape: [33], values: values(33, 2) },
  ]);
  for (const [name, seed] of [
    ['a', 10],
    ['b', 20],
  ] as const) {
    await mkdir(join(dir, name));
    await writeFile(
      join(dir, name, 'adapter_config.json'),
      JSON.stringify({ peft_type: 'LORA', r: 3, lora_alpha: 16, target_modules: ['q'] }),
    );
    await safetensors(join(dir, name, 'adapter_model.safetensors'), [
      { name: 'base_model.model.layer.q.lora_A.weight', shape: [3, 33], values: values(99, seed, 0.1) },
      { name: 'base_model.model.layer.q.lora_B.weight', shape: [40, 3], values: values(120, seed + 1, 0.1) },
    ]);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('merge-studio merge of LoRA adapters on the GPU', () => {
  it('--engine gpu computes the deltas on the GPU kernel and writes what --engine cpu writes', async () => {
    const adapt = vi.spyOn(GpuLoraKernel.prototype, 'adapt');
    const flags = (engine: string) => [
      'merge',
      '--engine',
      engine,
      '--method',
      'ta',
      '--base',
      join(dir, 'base.safetensors'),
      '--task',
      `a=${join(dir, 'a')}`,
      '--task',
      `b=${join(dir, 'b')}`,
      '--out',
      join(dir, engine),
    ];
    try {
      const cpu = await runCli(flags('cpu'));
      expect([cpu.code, cpu.err]).toEqual([0, '']);
      expect(adapt).not.toHaveBeenCalled();
      const gpu = await runCli(flags('gpu'));
      expect([gpu.code, gpu.err]).toEqual([0, '']);
      expect(adapt).toHaveBeenCalled();
    } finally {
      adapt.mockRestore();
    }
    for (const t of ['a', 'b'])
      expect(await readFile(join(dir, 'gpu', `${t}.safetensors`))).toEqual(
        await readFile(join(dir, 'cpu', `${t}.safetensors`)),
      );
  });
});
