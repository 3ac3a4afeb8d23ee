// Plan: LoRA and (IA)³ task vectors against a direct CPU computation. A LoRA adapter over its base
// reads as W + s·B·A (checked against plain f64 loops, to f32 rounding), in any byte range (what
// the scheduler's chunks read), with fan_in_fan_out, rank/alpha patterns and rsLoRA; untouched
// tensors are the base's bytes; a saved head replaces the base's. Merging three adapters equals
// merging the same fine-tunes written out in full, bit for bit. Bad adapters are refused by name.
import { describe, expect, it } from 'vitest';
import { widenToF32 } from '../formats/dtype';
import { readTensor, tensorName, type Checkpoint } from '../formats/tensor';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge, type EmrResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { ia3Checkpoints, loraCheckpoint, loraScale, parsePeftConfig, PeftError } from './lora';

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
  );
}

const OUT = 12;
const IN = 10;
const R = 3;

const base = memoryCheckpoint('base.safetensors', [
  { name: 'encoder.q.weight', dtype: 'F32', shape: [OUT, IN], values: values(OUT * IN, 1) },
  { name: 'encoder.v.weight', dtype: 'F16', shape: [OUT, IN], values: values(OUT * IN, 2) },
  { name: 'encoder.norm.weight', dtype: 'F32', shape: [IN], values: values(IN, 3) },
  { name: 'head.weight', dtype: 'F32', shape: [4, IN], values: values(4 * IN, 4) },
]);

function adapter(seed: number, extra: { head?: boolean; transposed?: boolean } = {}): Checkpoint {
  const p = 'base_model.model.';
  return memoryCheckpoint(`adapter-${seed}/adapter_model.safetensors`, [
    {
      name: `${p}encoder.q.lora_A.weight`,
      dtype: 'F32',
      shape: [R, IN],
      values: values(R * IN, seed * 10 + 1, 0.1),
    },
    {
      name: `${p}encoder.q.lora_B.weight`,
      dtype: 'F32',
      shape: [OUT, R],
      values: values(OUT * R, seed * 10 + 2, 0.1),
    },
    {
      name: `${p}encoder.v.lora_A.weight`,
      dtype: 'F32',
      shape: [R, IN],
      values: values(R * IN, seed * 10 + 3, 0.1),
    },
    {
      name: `${p}encoder.v.lora_B.weight`,
      dtype: 'F32',
      shape: [OUT, R],
      values: values(OUT * R, seed * 10 + 4, 0.1),
    },
    ...(extra.head
      ? [
          {
            name: `${p}head.weight`,
            dtype: 'F32' as const,
            shape: [2, IN],
            values: values(2 * IN, seed * 10 + 5),
          },
        ]
      : []),
  ]);
}

const config = (more: Record<string, unknown> = {}) =>
  parsePeftConfig(JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: 6, ...more }));

async function f32(c: Checkpoint, name: string): Promise<Float32Array> {
  const e = c.tensors.get(tensorName(name));
  if (!e) throw new Error(`no ${name}`);
  return widenToF32(await readTensor(e), e.dtype as 'F32' | 'F16' | 'BF16');
}

/** W + s·B·A in f64, the way the LoRA paper writes it. */
async function expected(c: Checkpoint, module: string, scale: number, transposed = false): Promise<number[]> {
  const w = await f32(base, `${module}.weight`);
  const a = await f32(c, `base_model.model.${module}.lora_A.weight`);
  const b = await f32(c, `base_model.model.${module}.lora_B.weight`);
  const ba = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < R; k++) s += (b[i * R + k] as number) * (a[k * IN + j] as number);
    return s;
  };
  return [...w].map((x, e) => {
    const [i, j] = [Math.floor(e / IN), e % IN];
    return x + scale * (transposed ? ba(j, i) : ba(i, j));
  });
}

describe('LoRA task checkpoints', () => {
  it('read as W + s·B·A, in any range, untouched tensors as the base', async () => {
    const task = await loraCheckpoint(base, adapter(1), config());
    const want = await expected(adapter(1), 'encoder.q', 2);
    const got = await f32(task, 'encoder.q.weight');
    got.forEach((x, e) => expect(Math.abs(x - (want[e] as number))).toBeLessThan(1e-6));
    // f16 base: the same, rounded to f16.
    const v = await f32(task, 'encoder.v.weight');
    const wantV = await expected(adapter(1), 'encoder.v', 2);
    v.forEach((x, e) => expect(Math.abs(x - (wantV[e] as number))).toBeLessThan(2e-3));
    // A range that starts and ends mid-row reads the same bytes as the whole tensor there.
    const entry = task.tensors.get(tensorName('encoder.q.weight'));
    const whole = await entry?.data.read(0, OUT * IN * 4);
    expect(await entry?.data.read(52, 212)).toEqual(whole?.slice(52, 212));
    expect(await readTensor(task.tensors.get(tensorName('encoder.norm.weight'))!)).toEqual(
      await readTensor(base.tensors.get(tensorName('encoder.norm.weight'))!),
    );
  });

  it('pattern keys that would make a backtracking regex run for ages match at once; unsupported ones are refused', () => {
    // V8's RegExp takes ~2^n steps on this key and an n-character name (the main thread pinned, Ctrl-C unheard).
    const evil = '([a-z_.0-9]|[a-z_.0-9])*Q';
    const module = `model.layers.0.self_attn.${'q'.repeat(60)}`;
    const c = config({ rank_pattern: { [evil]: 6 }, alpha_pattern: { [evil]: 6 } });
    expect(loraScale(c, module)).toBe(2); // no match: r = 3, alpha = 6
    expect(loraScale(c, `${module}Q`)).toBe(1); // matched: 6 / 6
    expect(() => config({ rank_pattern: { '(?<=x)q': 6 } })).toThrow(PeftError);
    expect(() => config({ alpha_pattern: { '(a{50}){50}': 6 } })).toThrow(/alpha_pattern key .*states/);
  });

  it('fan_in_fan_out, rank and alpha patterns, rsLoRA', async () => {
    expect(loraScale(config({ alpha_pattern: { 'encoder.q': 12 } }), 'encoder.q')).toBe(4);
    expect(loraScale(config({ rank_pattern: { q: 6 } }), 'encoder.q')).toBe(1);
    expect(loraScale(config({ use_rslora: true }), 'encoder.v')).toBe(6 / Math.sqrt(3));
    // A square module stored (in, out): the delta is (B·A)ᵀ.
    const sq = memoryCheckpoint('b.safetensors', [
      { name: 'c.weight', dtype: 'F32', shape: [IN, IN], values: values(IN * IN, 9) },
    ]);
    const ad = memoryCheckpoint('a.safetensors', [
      {
        name: 'base_model.model.c.lora_A.weight',
        dtype: 'F32',
        shape: [R, IN],
        values: values(R * IN, 7, 0.1),
      },
      {
        name: 'base_model.model.c.lora_B.weight',
        dtype: 'F32',
        shape: [IN, R],
        values: values(IN * R, 8, 0.1),
      },
    ]);
    const task = await loraCheckpoint(sq, ad, config({ fan_in_fan_out: true }));
    const a = await f32(ad, 'base_model.model.c.lora_A.weight');
    const b = await f32(ad, 'base_model.model.c.lora_B.weight');
    const w = await f32(sq, 'c.weight');
    const got = await f32(task, 'c.weight');
    got.forEach((x, e) => {
      const [i, j] = [Math.floor(e / IN), e % IN];
      let s = 0;
      for (let k = 0; k < R; k++) s += (b[j * R + k] as number) * (a[k * IN + i] as number);
      expect(Math.abs(x - ((w[e] as number) + 2 * s))).toBeLessThan(1e-6);
    });
  });

  it('merging three adapters equals merging the same fine-tunes written out in full', async () => {
    const tasks = await Promise.all(
      [1, 2, 3].map((s) => loraCheckpoint(base, adapter(s, { head: s !== 2 }), config())),
    );
    const full = await Promise.all(
      tasks.map(async (t, i) =>
        memoryCheckpoint(
          `full-${i}`,
          await Promise.all(
            [...t.tensors.values()].map(async (e) => ({
              name: e.name,
              dtype: e.dtype,
              shape: e.shape,
              values: await readTensor(e),
            })),
          ),
        ),
      ),
    );
    const merge = async (cs: Checkpoint[]) =>
      (await runMerge(
        buildModelSet(
          base,
          cs.map((checkpoint, i) => ({ name: `t${i}`, checkpoint })),
        ),
        methodSpec('emr'),
        new CpuEngine(),
      )) as EmrResult;
    const [viaAdapters, viaFull] = await Promise.all([merge(tasks), merge(full)]);
    expect(viaAdapters.lambdas).toEqual(viaFull.lambdas);
    expect([...viaAdapters.tauUni.keys()]).toEqual([...viaFull.tauUni.keys()]);
    for (const [name, tau] of viaAdapters.tauUni) expect(tau).toEqual(viaFull.tauUni.get(name));
    // The saved 2-class head replaced the base's 4-class one: task-specific, left out of the merge.
    expect(viaAdapters.set.report.leftOut.map((l) => l.name)).toContain('head.weight');
    // norm.weight is untouched by every adapter: τ = 0, so τ_uni is 0 there.
    expect([...(viaAdapters.tauUni.get(tensorName('encoder.norm.weight')) ?? [])].every((x) => x === 0)).toBe(
      true,
    );
  });

  it('refuses adapters that do not fit, by name', async () => {
    const only = memoryCheckpoint('x/adapter_model.safetensors', [
      {
        name: 'base_model.model.encoder.q.lora_A.weight',
        dtype: 'F32',
        shape: [R, IN],
        values: values(R * IN, 1),
      },
    ]);
    expect(() => loraCheckpoint(base, only, config())).toThrow('encoder.q has lora_A without lora_B');
    const wrong = memoryCheckpoint('x/adapter_model.safetensors', [
      {
        name: 'base_model.model.encoder.q.lora_A.weight',
        dtype: 'F32',
        shape: [R, IN + 1],
        values: values(R * (IN + 1), 1),
      },
      {
        name: 'base_model.model.encoder.q.lora_B.weight',
        dtype: 'F32',
        shape: [OUT, R],
        values: values(OUT * R, 1),
      },
    ]);
    expect(() => loraCheckpoint(base, wrong, config())).toThrow('do not make a encoder.q.weight [12, 10]');
    const stranger = memoryCheckpoint('x/adapter_model.safetensors', [
      {
        name: 'base_model.model.decoder.k.lora_A.weight',
        dtype: 'F32',
        shape: [R, IN],
        values: values(R * IN, 1),
      },
      {
        name: 'base_model.model.decoder.k.lora_B.weight',
        dtype: 'F32',
        shape: [OUT, R],
        values: values(OUT * R, 1),
      },
    ]);
    expect(() => loraCheckpoint(base, stranger, config())).toThrow(
      'decoder.k.weight, which the base does not have',
    );
    expect(() => parsePeftConfig('{"peft_type":"PREFIX_TUNING"}', 'c.json')).toThrow(
      new PeftError('c.json', 'peft_type "PREFIX_TUNING" is not one we merge (LORA, IA3)'),
    );
    expect(() => parsePeftConfig('{"peft_type":"LORA","use_dora":true}')).toThrow('DoRA');
    expect(() => parsePeftConfig('{"peft_type":"LORA","r":0}')).toThrow('r must be a positive number');
  });
});

describe('(IA)³', () => {
  it('merges the scaling vectors over a base of ones', async () => {
    const ia3 = (seed: number) =>
      memoryCheckpoint(`ia3-${seed}`, [
        {
          name: 'base_model.model.encoder.k.ia3_l',
          dtype: 'F32',
          shape: [OUT, 1],
          values: Float32Array.from(values(OUT, seed, 0.2), (x) => 1 + x),
        },
        {
          name: 'base_model.model.encoder.ff.ia3_l',
          dtype: 'F32',
          shape: [1, IN],
          values: Float32Array.from(values(IN, seed + 5, 0.2), (x) => 1 + x),
        },
      ]);
    const [first, second] = [ia3(1), ia3(2)].map(ia3Checkpoints);
    expect([...(await f32(first!.base, 'encoder.k.ia3_l'))]).toEqual(new Array(OUT).fill(1));
    const result = (await runMerge(
      buildModelSet(first!.base, [
        { name: 'a', checkpoint: first!.task },
        { name: 'b', checkpoint: second!.task },
      ]),
      methodSpec('emr'),
      new CpuEngine(),
    )) as EmrResult;
    expect(result.set.shared.map((s) => s.name)).toEqual(['encoder.k.ia3_l', 'encoder.ff.ia3_l']);
    expect(() => ia3Checkpoints(base)).toThrow('no ia3_l scaling vectors');
  });
});
