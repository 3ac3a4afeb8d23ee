// Plan: `eval --methods` takes every name `merge --method` does, with merge's --param/--seed parsed
// by the same code: a mergekit method and a spectral one are rows of the table on two digits-8 tasks
// (their first 100 labeled samples), labelled by describeMethod; the comparison cache keeps two
// mergekit methods apart (both say `method: 'mergekit'`); a method that wants another number of
// tasks, and a parameter no listed method takes, are usage errors before any file is opened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { ComparisonMerges } from '../flow/compare';
import { CpuEngine } from '../merge/cpu/engine';
import { describeMethod, anyMethodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

const ZOO = 'public/zoo/digits-8';
const TASKS = ['plain', 'inverted'];
let dir: string;
let sets: string[];

/** The first 100 samples of a zoo eval set (inputs [300, 1, 8, 8] F32, labels I64): a faster test. */
async function firstSamples(task: string): Promise<string> {
  const files = new OpenFiles();
  try {
    const c = await openPath(join(ZOO, 'eval', `${task}.safetensors`), files);
    const [inputs, labels] = ['inputs', 'labels'].map((k) =>
      [...c.tensors.values()].find((e) => e.name === k),
    );
    if (!inputs || !labels) throw new Error(`${task}: no inputs/labels`);
    const path = join(dir, `${task}-eval.safetensors`);
    await writeSafetensors(await fileSink(path), [
      { name: 'inputs', dtype: 'F32', shape: [100, 1, 8, 8], bytes: await inputs.data.read(0, 100 * 64 * 4) },
      { name: 'labels', dtype: 'I64', shape: [100], bytes: await labels.data.read(0, 100 * 8) },
    ]);
    return path;
  } finally {
    await files.closeAll();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-eval-methods-'));
  sets = await Promise.all(TASKS.map(firstSamples));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const flags = (tasks: readonly string[]) => [
  'eval',
  '--base',
  join(ZOO, 'base.onnx'),
  ...tasks.flatMap((t) => ['--task', `${t}=${join(ZOO, `${t}.onnx`)}`]),
  ...tasks.flatMap((t) => ['--eval', `${t}=${sets[TASKS.indexOf(t)]}`]),
];

describe('merge-studio eval --methods', () => {
  it('rows for a mergekit and a spectral method, parameters applied to the methods that take them', async () => {
    const r = await runCli([
      ...flags(TASKS),
      ...['--methods', 'dare_linear,iso_c', '--param', 'density=0.5', '--seed', '3', '--no-route', '--json'],
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const table = JSON.parse(r.out) as { rows: { method: string; accuracy: number[] }[] };
    expect(table.rows.map((row) => row.method)).toEqual([
      'Individual',
      describeMethod(anyMethodSpec('dare_linear', { density: 0.5, seed: 3 })),
      describeMethod(anyMethodSpec('iso_c', {})),
    ]);
    const [individual, dare, iso] = table.rows;
    // Merged models that still do their tasks (Iso-C keeps ≈ 90 % of these two on all 300 samples).
    iso?.accuracy.forEach((a, t) => expect(a).toBeGreaterThan(0.8 * (individual?.accuracy[t] as number)));
    dare?.accuracy.forEach((a) => expect(a).toBeGreaterThan(0.5));
  }, 300_000);

  it('refuses a method that wants another number of tasks, and a parameter no listed method takes', async () => {
    const slerp = await runCli([...flags(TASKS), '--methods', 'emr,slerp', '--param', 't=0.5']);
    expect(slerp.code).toBe(2);
    expect(slerp.err).toContain(
      '--methods slerp: slerp interpolates between the base model and exactly one other; the set has 2 other models',
    );
    const nuslerp = await runCli([...flags(['plain']), '--methods', 'nuslerp']);
    expect(nuslerp.code).toBe(2);
    expect(nuslerp.err).toContain('--methods nuslerp: nuslerp interpolates between exactly two models');
    const unused = await runCli([...flags(TASKS), '--methods', 'emr,ta', '--param', 'density=0.5']);
    expect(unused.code).toBe(2);
    expect(unused.err).toContain('--param density: no method in --methods emr,ta takes density');
    const chosen = await runCli([...flags(TASKS), '--methods', 'tall_mask', '--lambda', '0.3']);
    expect(chosen.code).toBe(2);
    expect(chosen.err).toContain("--lambda: no method in --methods tall_mask takes lambda (tall_mask's and");
  });

  it('merges each spec once: two mergekit methods are two merges', async () => {
    const files = new OpenFiles();
    try {
      const [base, ...tasks] = await Promise.all(
        ['base', ...TASKS].map((n) => openPath(join(ZOO, `${n}.safetensors`), files)),
      );
      if (!base) throw new Error('no base');
      const set = buildModelSet(
        base,
        tasks.map((checkpoint, i) => ({ name: TASKS[i] as string, checkpoint })),
      );
      const merges = new ComparisonMerges(set, new CpuEngine());
      const ta = anyMethodSpec('task_arithmetic', {});
      const linear = anyMethodSpec('linear', {});
      const [a, b, again] = await Promise.all([merges.result(ta), merges.result(linear), merges.result(ta)]);
      expect(a.spec).toEqual(ta);
      expect(b.spec).toEqual(linear);
      expect(again).toBe(a);
    } finally {
      await files.closeAll();
    }
  });
});
