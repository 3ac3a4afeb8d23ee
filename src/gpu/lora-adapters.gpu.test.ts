// Plan: the GPU LoRA kernel behind adapters — through loraCheckpoint with rank/alpha patterns and
// f16/bf16 bases; a merge of LoRA adapters on the GPU engine with the GPU kernel equal to the CPU
// merge; a lost device (the switching kernel finishes on the CPU twin). The kernel alone against its
// twin: ./lora.gpu.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readTensor, tensorName, type Checkpoint } from '../formats/tensor';
import { MemorySink } from '../formats/sink';
import { CpuEngine } from '../merge/cpu/engine';
import { writeTaskSafetensors } from '../merge/export';
import { runMerge, type EmrResult, type MergeResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { cpuLoraKernel, loraDelta, SwitchingLoraKernel, type LoraKernel } from '../peft/kernel';
import { loraCheckpoint, parsePeftConfig } from '../peft/lora';
import { withAdapters } from '../peft/set';
import { acquireGpu } from './device';
import { GpuEngine } from './engine';
import { GpuLoraKernel } from './lora';
import { testGpu } from './testing/gpu';
import { bitsOf, expectTwin, factors, values } from './testing/lora-kernel';

describe('GPU LoRA kernel', () => {
  it('through loraCheckpoint: rank and alpha patterns, rsLoRA, fan_in_fan_out, f16 and bf16 bases', async () => {
    const kernel = new GpuLoraKernel(await testGpu());
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          dtype: fc.constantFrom('F32' as const, 'F16' as const, 'BF16' as const),
          out: fc.integer({ min: 1, max: 40 }),
          inn: fc.integer({ min: 1, max: 70 }),
          r: fc.integer({ min: 1, max: 12 }),
          rq: fc.integer({ min: 1, max: 12 }),
          alphaQ: fc.constantFrom(3, 10, 24),
          rslora: fc.boolean(),
          fanInFanOut: fc.boolean(),
          start: fc.nat(),
          length: fc.nat(),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        async (p) => {
          // q's rank and alpha come from the patterns; v uses the defaults.
          const config = parsePeftConfig(
            JSON.stringify({
              peft_type: 'LORA',
              r: p.r,
              lora_alpha: 7,
              use_rslora: p.rslora,
              fan_in_fan_out: p.fanInFanOut,
              rank_pattern: { q: p.rq },
              alpha_pattern: { 'layer.q': p.alphaQ },
            }),
          );
          const stored = p.fanInFanOut ? [p.inn, p.out] : [p.out, p.inn];
          const base = memoryCheckpoint('base', [
            {
              name: 'layer.q.weight',
              dtype: p.dtype,
              shape: stored,
              values: values(p.out * p.inn, p.seed, { spread: false }),
            },
            {
              name: 'layer.v.weight',
              dtype: p.dtype,
              shape: stored,
              values: values(p.out * p.inn, p.seed + 1, { spread: false }),
            },
          ]);
          const pre = 'base_model.model.layer';
          const adapter = memoryCheckpoint('adapter', [
            ...(['q', 'v'] as const).flatMap((m, i) => {
              const r = m === 'q' ? p.rq : p.r;
              return [
                {
                  name: `${pre}.${m}.lora_A.weight`,
                  dtype: 'F32' as const,
                  shape: [r, p.inn],
                  values: values(r * p.inn, p.seed + 2 + i),
                },
                {
                  name: `${pre}.${m}.lora_B.weight`,
                  dtype: 'F32' as const,
                  shape: [p.out, r],
                  values: values(p.out * r, p.seed + 4 + i),
                },
              ];
            }),
          ]);
          const onGpu = loraCheckpoint(base, adapter, config, kernel);
          const onCpu = loraCheckpoint(base, adapter, config, cpuLoraKernel);
          for (const name of ['layer.q.weight', 'layer.v.weight']) {
            const [g, c] = [onGpu, onCpu].map((t) => t.tensors.get(tensorName(name))!);
            const bytes = g!.byteLength;
            const size = bytes / (p.out * p.inn);
            // A range in bytes, as the scheduler asks: whole elements, anywhere.
            const start = (p.start % (p.out * p.inn)) * size;
            const end = Math.min(bytes, start + Math.max(size, (p.length % (p.out * p.inn)) * size));
            expect(await g!.data.read(start, end)).toEqual(await c!.data.read(start, end));
            expect(await readTensor(g!)).toEqual(await readTensor(c!));
          }
        },
      ),
      { numRuns: 40 },
    );
    expect(kernel.computed.cpu).toBe(0);
    expect(kernel.computed.gpu).toBeGreaterThan(0);
    kernel.dispose();
  });

  it('a merge of LoRA adapters on the GPU engine with the GPU kernel equals the CPU merge', async () => {
    const [OUT, IN, R] = [37, 70, 6];
    const base = memoryCheckpoint('base', [
      { name: 'enc.q.weight', dtype: 'F32', shape: [OUT, IN], values: values(OUT * IN, 1, { zeros: false }) },
      {
        name: 'enc.k.weight',
        dtype: 'BF16',
        shape: [IN, OUT],
        values: values(OUT * IN, 2, { zeros: false }),
      },
      { name: 'enc.norm.weight', dtype: 'F32', shape: [IN], values: values(IN, 3) },
    ]);
    const adapters = [1, 2, 3].map((seed) =>
      memoryCheckpoint(`adapter-${seed}`, [
        ...(['q', 'k'] as const).flatMap((m) => [
          {
            name: `base_model.model.enc.${m}.lora_A.weight`,
            dtype: 'F32' as const,
            shape: [R, IN],
            values: values(R * IN, seed * 10 + m.length),
          },
          {
            name: `base_model.model.enc.${m}.lora_B.weight`,
            dtype: 'F32' as const,
            shape: [OUT, R],
            values: values(OUT * R, seed * 20 + m.length),
          },
        ]),
      ]),
    );
    // k is stored (in, out): fan_in_fan_out for every module of the adapter would not fit q, so two configs.
    const configs = [false, true].map((fanInFanOut) =>
      parsePeftConfig(
        JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: 16, fan_in_fan_out: fanInFanOut }),
      ),
    );
    const split = (c: Checkpoint, module: string): Checkpoint => ({
      ...c,
      tensors: new Map([...c.tensors].filter(([name]) => name.includes(`.${module}.`))),
    });
    const gpu = await testGpu();
    const merge = async (engine: GpuEngine | CpuEngine, kernel: LoraKernel, method: 'emr' | 'ta') => {
      // One adapter per task over q (plain) and k (fan_in_fan_out): the set sees both weights adapted.
      const tasks = adapters.map((a, t) => {
        const q = loraCheckpoint(base, split(a, 'q'), configs[0]!, kernel);
        const k = loraCheckpoint(base, split(a, 'k'), configs[1]!, kernel);
        const tensors = new Map(q.tensors);
        tensors.set(tensorName('enc.k.weight'), k.tensors.get(tensorName('enc.k.weight'))!);
        return { name: `t${t}`, checkpoint: { ...q, tensors } };
      });
      const result = await runMerge(buildModelSet(base, tasks), methodSpec(method), engine, {
        budgetBytes: 48 * 1024, // chunks of a few hundred elements: ranges start mid-row
      });
      const models = await Promise.all(
        [0, 1, 2].map(async (t) => {
          const sink = new MemorySink();
          await writeTaskSafetensors(result, t, engine, sink);
          return sink.bytes();
        }),
      );
      return { result, models };
    };
    const gpuKernel = new GpuLoraKernel(gpu);
    const gpuEngine = new GpuEngine(gpu);
    const onGpu = await merge(gpuEngine, gpuKernel, 'emr');
    const gpuEngineCpuKernel = await merge(gpuEngine, cpuLoraKernel, 'emr');
    const onCpu = await merge(new CpuEngine(), cpuLoraKernel, 'emr');
    expect(gpuKernel.computed.cpu).toBe(0);
    expect(gpuKernel.computed.gpu).toBeGreaterThanOrEqual(3 * 2 * OUT * IN);
    const emr = (m: { result: MergeResult }) => m.result as EmrResult;
    // The kernel's bytes are the twin's: the whole merge, models included, is unchanged by it.
    expect(emr(onGpu).lambdas).toEqual(emr(gpuEngineCpuKernel).lambdas);
    expect(onGpu.models).toEqual(gpuEngineCpuKernel.models);
    // Against the CPU merge: τ_uni and masks bit for bit; λ's sums to f32-partial precision.
    for (const [name, tau] of emr(onCpu).tauUni) {
      expect(bitsOf(emr(onGpu).tauUni.get(name)!)).toEqual(bitsOf(tau));
      expect(emr(onGpu).masks.get(name)).toEqual(emr(onCpu).masks.get(name));
    }
    emr(onGpu).lambdas.forEach((l, t) => expect(Math.abs(l - emr(onCpu).lambdas[t]!)).toBeLessThan(1e-6 * l));
    // Task Arithmetic's weights are bit for bit on both engines: the task models' bytes are the CPU's.
    const taGpu = await merge(gpuEngine, gpuKernel, 'ta');
    const taCpu = await merge(new CpuEngine(), cpuLoraKernel, 'ta');
    expect(taGpu.models).toEqual(taCpu.models);
    gpuEngine.dispose();
    gpuKernel.dispose();
  });

  it('a lost device: the switching kernel finishes on the CPU twin with the same bytes, saying so once', async () => {
    const own = await acquireGpu();
    const notices: string[] = [];
    const kernel = new SwitchingLoraKernel((why) => notices.push(why));
    const gpuKernel = new GpuLoraKernel(own, true);
    kernel.use(gpuKernel);
    const f = factors(30, 50, 4, 2, false, 21);
    const w = values(1500, 22);
    await expectTwin(kernel, f, w, 0);
    expect([kernel.kind, gpuKernel.computed.gpu]).toEqual(['gpu', 1500]);
    own.device.destroy();
    await Promise.all(
      [0, 300, 700].map((first) => expectTwin(kernel, f, w.subarray(first, first + 400), first)),
    );
    expect(kernel.kind).toBe('cpu');
    expect(notices).toHaveLength(1);
    expect(kernel.description).toContain('after the GPU failed');
    // Through withAdapters as the CLI and the studio pass it.
    const set = withAdapters(
      memoryCheckpoint('base', [{ name: 'm.weight', dtype: 'F32', shape: [30, 50], values: w }]),
      [
        {
          name: 'a',
          checkpoint: memoryCheckpoint('a', [
            {
              name: 'base_model.model.m.lora_A.weight',
              dtype: 'F32',
              shape: [4, 50],
              values: f.a as Float32Array,
            },
            {
              name: 'base_model.model.m.lora_B.weight',
              dtype: 'F32',
              shape: [30, 4],
              values: f.b as Float32Array,
            },
          ]),
          peft: parsePeftConfig('{"peft_type":"LORA","r":4,"lora_alpha":8}'),
        },
      ],
      kernel,
    );
    const read = await readTensor(set.tasks[0]!.checkpoint.tensors.get(tensorName('m.weight'))!);
    expect(bitsOf(new Float32Array(read.buffer.slice(0)))).toEqual(
      bitsOf(loraDelta(w, 0, 50, f.a, f.b, 4, 2, false)),
    );
    kernel.dispose();
  });
});
