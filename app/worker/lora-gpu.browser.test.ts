// Plan: LoRA adapters merged in the studio worker on the GPU (real Chromium, SwiftShader here):
// the adapters' deltas go through the GPU LoRA kernel, and the exported task model is the one the
// CPU merge exports, byte for byte (Task Arithmetic, whose weights both engines give bit for bit);
// a CPU merge never touches the GPU kernel.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { GpuLoraKernel } from '../../src/gpu/lora';
import { methodSpec } from '../../src/merge/methods';
import { StudioService, type PathedFile } from './service';

const values = (n: number, seed: number, scale = 1) => {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
  );
};

async function file(path: string, tensors: { name: string; shape: number[]; values: Float32Array }[]) {
  const sink = new MemorySink();
  await writeSafetensors(
    sink,
    tensors.map((t) => ({ ...t, dtype: 'F32' as const, bytes: new Uint8Array(t.values.buffer) })),
  );
  return { path, file: new Blob([sink.bytes()]) };
}

afterEach(() => vi.restoreAllMocks());

describe('LoRA adapters merged on the GPU in the studio', () => {
  it('run their deltas on the GPU kernel and export the CPU merge’s bytes', async () => {
    const adapt = vi.spyOn(GpuLoraKernel.prototype, 'adapt');
    const service = new StudioService();
    const base = await file('base.safetensors', [
      { name: 'blocks.0.q.weight', shape: [48, 40], values: values(48 * 40, 1) },
      { name: 'blocks.0.norm.weight', shape: [40], values: values(40, 2) },
    ]);
    expect((await service.open('base', base, [])).ok).toBe(true);
    for (const [name, seed] of [
      ['a', 10],
      ['b', 20],
    ] as const) {
      const config: PathedFile = {
        path: `${name}/adapter_config.json`,
        file: new Blob([JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8 })]),
      };
      const adapter = await file(`${name}/adapter_model.safetensors`, [
        { name: 'base_model.model.blocks.0.q.lora_A.weight', shape: [4, 40], values: values(160, seed, 0.1) },
        {
          name: 'base_model.model.blocks.0.q.lora_B.weight',
          shape: [48, 4],
          values: values(192, seed + 1, 0.1),
        },
      ]);
      const opened = await service.open(name, adapter, [config]);
      if (!opened.ok) throw new Error(opened.message);
    }
    const selection = { baseId: 'base', tasks: ['a', 'b'].map((id) => ({ id, name: id })) };
    const merge = async (engine: 'cpu' | 'gpu') => {
      const outcome = await service.merge(selection, methodSpec('ta'), engine, () => {});
      if (!outcome.ok) throw new Error(outcome.message);
      const exported = await service.export({ kind: 'task', task: 1 }, { kind: 'blob' });
      if (!exported.ok || !exported.blob) throw new Error('no export');
      return { engine: outcome.summary.engine, bytes: new Uint8Array(await exported.blob.arrayBuffer()) };
    };
    const cpu = await merge('cpu');
    expect(adapt).not.toHaveBeenCalled();
    const gpu = await merge('gpu');
    expect(gpu.engine).toMatch(/^GPU: /);
    expect(adapt).toHaveBeenCalled();
    expect(gpu.bytes).toEqual(cpu.bytes);
  });
});
