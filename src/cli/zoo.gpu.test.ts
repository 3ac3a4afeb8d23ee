// Plan: the digits-8 zoo merged on the GPU engine (WGSL kernels through dawn.node) equals the CPU
// merge for every method: EMR's masks and τ_uni identical and λ within 1e-6 relative; the baselines'
// merged weights identical; every task's model identical after narrowing (EMR with the CPU's λ).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireGpu } from '../gpu/device';
import { GpuEngine } from '../gpu/engine';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge, type EmrResult, type MergedResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { collectBytes, taskModel } from '../merge/task-model';
import { OpenFiles, openPath } from './files';

const ZOO = 'public/zoo/digits-8';
const files = new OpenFiles();
afterAll(() => files.closeAll());

async function zoo() {
  const manifest = JSON.parse(await readFile(join(ZOO, 'manifest.json'), 'utf8')) as {
    base: { safetensors: string };
    tasks: { id: string; safetensors: string }[];
  };
  const base = await openPath(join(ZOO, manifest.base.safetensors), files);
  const tasks = await Promise.all(
    manifest.tasks.map(async (t) => ({
      name: t.id,
      checkpoint: await openPath(join(ZOO, t.safetensors), files),
    })),
  );
  return buildModelSet(base, tasks);
}

describe('digits-8 on the GPU engine equals the CPU engine', () => {
  it('EMR: masks, τ_uni, λ and every task model', async () => {
    const set = await zoo();
    const gpu = new GpuEngine(await acquireGpu(), true);
    const cpu = new CpuEngine();
    const [g, c] = (await Promise.all([
      runMerge(set, methodSpec('emr'), gpu),
      runMerge(set, methodSpec('emr'), cpu),
    ])) as [EmrResult, EmrResult];
    for (const s of set.shared) {
      expect(g.masks.get(s.name)).toEqual(c.masks.get(s.name));
      expect(g.tauUni.get(s.name)).toEqual(c.tauUni.get(s.name));
    }
    g.lambdas.forEach((l, t) =>
      expect(Math.abs(l - (c.lambdas[t] as number)) / (c.lambdas[t] as number)).toBeLessThan(1e-6),
    );
    const sameLambda = { ...g, lambdas: c.lambdas };
    for (let t = 0; t < set.tasks.length; t++) {
      const [gm, cm] = [taskModel(sameLambda, t, gpu), taskModel(c, t, cpu)];
      for (let i = 0; i < gm.length; i++)
        expect(await collectBytes(gm[i] as (typeof gm)[number])).toEqual(
          await collectBytes(cm[i] as (typeof cm)[number]),
        );
    }
    gpu.dispose();
  }, 120_000);

  for (const method of ['avg', 'ta', 'ties'] as const) {
    it(`${method}: the merged weights`, async () => {
      const set = await zoo();
      const gpu = new GpuEngine(await acquireGpu(), true);
      const [g, c] = (await Promise.all([
        runMerge(set, methodSpec(method), gpu),
        runMerge(set, methodSpec(method), new CpuEngine()),
      ])) as [MergedResult, MergedResult];
      for (const s of set.shared) expect(g.merged.get(s.name)).toEqual(c.merged.get(s.name));
      expect(g.ties).toEqual(c.ties);
      gpu.dispose();
    }, 120_000);
  }
});
