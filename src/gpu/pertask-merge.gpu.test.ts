// Plan: the per-task methods merged on the GPU engine — each task's TALL mask and T-Switch's keep/sign
// bits on its programs during the merge (src/merge/pertask/run.ts), each task's weights on its
// reconstruction program when the models are written (src/merge/task-model.ts) — equal the CPU
// engine bit for bit: every task model and the artefact's bytes. On the original authors' fixture
// layers (src/merge/pertask/__fixtures__: zeros, −0 in the base, |τ| ties, a TIES sum of 0, T-Switch
// threshold ties, a 0-dim tensor, sizes around the mask words, F32/F16/BF16, a head per task), with
// every pass sent to the GPU (perTaskMinElements 0) and the dispatches counted, so a runner that
// stopped calling the engine fails; and with the default size rule, these small tensors stay on the
// CPU twins (no dispatch) and give the same bytes. A device lost during the merge, or before the
// task models are written, finishes on the CPU (FallbackEngine) with the same bytes. TSV-C (its own
// fixture, __fixtures__/tsvc.json) has no program: on the GPU engine its twins run, the same bytes.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { MergeDType } from '../formats/dtype';
import { MemorySink } from '../formats/sink';
import { CpuEngine } from '../merge/cpu/engine';
import { FallbackEngine } from '../merge/fallback';
import type { MergeEngine } from '../merge/engine';
import { runMerge } from '../merge/merge';
import fixture from '../merge/pertask/__fixtures__/pertask.json' with { type: 'json' };
import tsvcFixture from '../merge/pertask/__fixtures__/tsvc.json' with { type: 'json' };
import { writePerTaskArtefact } from '../merge/pertask/artefact';
import { isPerTaskResult, type PerTaskResult } from '../merge/pertask/result';
import { perTaskSpec, type PerTaskMethod } from '../merge/pertask/spec';
import { makeSet, type Layer } from '../merge/testing/engine-suite';
import { collectBytes, taskModel } from '../merge/task-model';
import { acquireGpu } from './device';
import { GpuEngine } from './engine';
import { GpuRuntime } from './runtime/runtime';
import { testGpu } from './testing/gpu';

interface FixtureSet {
  base: Record<string, number[]>;
  tasks: Record<string, number[]>[];
}

const f32 = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

function fixtureSet(dtype: MergeDType, from: { shapes: unknown; sets: unknown } = fixture) {
  const shapes = from.shapes as Record<string, number[]>;
  const data = (from.sets as Record<MergeDType, FixtureSet>)[dtype];
  const layers: Layer[] = Object.entries(shapes).map(([name, shape]) => ({
    name,
    shape,
    base: f32(data.base[name] as number[]),
    tasks: data.tasks.map((t) => f32(t[name] as number[])),
  }));
  return makeSet(layers, data.tasks.length, { dtype, heads: true });
}

/** Every task model's bytes and the artefact's. */
async function outputs(
  spec: ReturnType<typeof perTaskSpec>,
  dtype: MergeDType,
  engine: MergeEngine,
  hooks: { onProgress?: () => void; afterMerge?: () => void } = {},
  set = () => fixtureSet(dtype),
) {
  const { onProgress } = hooks;
  const result = await runMerge(set(), spec, engine, onProgress ? { onProgress } : {});
  if (!isPerTaskResult(result)) throw new Error('not a per-task result');
  hooks.afterMerge?.();
  const models = await Promise.all(
    result.set.tasks.map((_, t) =>
      Promise.all(taskModel(result, t, engine).map(async (x) => Array.from(await collectBytes(x)))),
    ),
  );
  const sink = new MemorySink('artefact.safetensors');
  await writePerTaskArtefact(result as PerTaskResult, sink);
  return { models, artefact: Array.from(sink.bytes()), tasks: result.tasks };
}

/** The per-task programs dispatched, and how many of them kept their tile (flag 0). */
function countDispatches() {
  const kept = new Map<string, number>();
  const run = GpuRuntime.prototype.run;
  const spy = vi.spyOn(GpuRuntime.prototype, 'run').mockImplementation(async function (
    this: GpuRuntime,
    spec,
    slot,
  ) {
    const r = await run.call(this, spec, slot);
    if (spec.program.startsWith('pertask-'))
      kept.set(spec.program, (kept.get(spec.program) ?? 0) + (r.u32('flag')[0] ? 0 : 1));
    return r;
  });
  return { kept, restore: () => spy.mockRestore() };
}

const PROGRAMS: Record<PerTaskMethod, string[]> = {
  tall_mask: ['pertask-bits-tall', 'pertask-reconstruct-masked'],
  consensus_ta: ['pertask-bits-tall', 'pertask-reconstruct-masked'],
  consensus_ties: ['pertask-bits-tall', 'pertask-reconstruct-masked'],
  t_switch: ['pertask-bits-switch', 'pertask-reconstruct-switch'],
  // No program: its SVD and low-rank products run on the CPU (src/gpu/programs/pertask.ts).
  tsv_c: [],
};

describe('per-task methods on the GPU engine equal the CPU engine bit for bit', () => {
  const cpu = new CpuEngine();
  let gpu: GpuEngine | undefined;
  afterAll(() => gpu?.dispose());

  for (const c of fixture.cases) {
    const method = c.method as PerTaskMethod;
    it(`${method} ${JSON.stringify(c.params)} ${c.dtype}: task models and artefact`, async () => {
      gpu ??= new GpuEngine(await testGpu(), false, { perTaskMinElements: 0 });
      const spec = perTaskSpec(method, c.params);
      const want = await outputs(spec, c.dtype as MergeDType, cpu);
      const dispatches = countDispatches();
      let got: Awaited<ReturnType<typeof outputs>>;
      try {
        got = await outputs(spec, c.dtype as MergeDType, gpu);
      } finally {
        dispatches.restore();
      }
      expect(got.tasks).toEqual(want.tasks);
      for (const [t, model] of want.models.entries())
        for (const [i, bytes] of model.entries())
          expect(got.models[t]?.[i], `task ${t}, tensor ${i}`).toEqual(bytes);
      expect(got.artefact).toEqual(want.artefact);
      // The passes ran on the GPU's programs, not on the twins.
      expect([...dispatches.kept.keys()].sort()).toEqual([...PROGRAMS[method]].sort());
      for (const program of PROGRAMS[method]) expect(dispatches.kept.get(program)).toBeGreaterThan(0);
    });
  }

  it('tsv_c on its fixture layers: the CPU twins compute it (no dispatch), the same bytes', async () => {
    gpu ??= new GpuEngine(await testGpu(), false, { perTaskMinElements: 0 });
    for (const c of tsvcFixture.cases) {
      const spec = perTaskSpec('tsv_c', c.params);
      const set = () => fixtureSet(c.dtype as MergeDType, tsvcFixture);
      const want = await outputs(spec, c.dtype as MergeDType, cpu, {}, set);
      const dispatches = countDispatches();
      try {
        expect(await outputs(spec, c.dtype as MergeDType, gpu, {}, set)).toEqual(want);
      } finally {
        dispatches.restore();
      }
      expect(dispatches.kept.size).toBe(0);
    }
  });

  it('with the default size rule, small tensors stay on the CPU twins (same bytes, no dispatch)', async () => {
    const small = new GpuEngine(await testGpu());
    try {
      for (const [method, params] of [
        ['consensus_ties', { k: 2, tall_lambda: 0.3, lambda: 0.5 }],
        ['t_switch', { drop_ratio: 0.6 }],
      ] as const) {
        const spec = perTaskSpec(method, params);
        const want = await outputs(spec, 'BF16', cpu);
        const dispatches = countDispatches();
        try {
          expect(await outputs(spec, 'BF16', small)).toEqual(want);
        } finally {
          dispatches.restore();
        }
        expect(dispatches.kept.size).toBe(0);
      }
    } finally {
      small.dispose();
    }
  });

  for (const [when, method, params] of [
    ['during the merge', 'tall_mask', { tall_base: 'ties', lambda: 0.4 }],
    ['before the task models', 't_switch', { drop_ratio: 0.6 }],
  ] as const)
    it(`a device lost ${when} (${method}) finishes on the CPU with the same bytes`, async () => {
      const spec = perTaskSpec(method, params);
      const want = await outputs(spec, 'F32', cpu);
      const own = await acquireGpu(); // a device of its own, to lose
      const notices: string[] = [];
      const engine = new FallbackEngine(
        new GpuEngine(own, true, { perTaskMinElements: 0 }),
        () => new CpuEngine(),
        (why) => notices.push(why),
      );
      let merged = 0;
      const lose = () => own.device.destroy();
      const got = await outputs(
        spec,
        'F32',
        engine,
        when === 'during the merge'
          ? { onProgress: () => void (++merged === 4 && lose()) }
          : { afterMerge: lose },
      );
      expect(got).toEqual(want);
      expect([notices.length, engine.kind]).toEqual([1, 'cpu']);
      engine.dispose();
    });
});
