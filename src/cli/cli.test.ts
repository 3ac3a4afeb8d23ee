// Plan: the merge command end to end on checkpoints written to a temp directory (./cli-fixtures) —
// merge by flags and by mergekit-style YAML writes every task's model and the bundle, and they load
// back equal to the in-process merge; apply rebuilds a task from the bundle byte for byte; bad input
// gives one clear line and the documented exit code, and never a file under a final name. ONNX
// tasks: ./cli-onnx.test.ts; eval: ./cli-eval.test.ts; inspect and the real bin (npx):
// ./cli-inspect.test.ts.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { methodSpec, type AnyMethodSpec } from '../merge/methods';
import { mergekitSpec } from '../merge/mergekit/spec';
import { buildModelSet } from '../merge/model-set';
import { collectBytes, taskModel } from '../merge/task-model';
import { cliInputs, writeModel } from './cli-fixtures';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

let dir: string;
beforeAll(async () => {
  dir = await cliInputs();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const taskFlags = () =>
  ['alpha', 'beta', 'gamma'].flatMap((t) => ['--task', `${t}=${join(dir, `${t}.safetensors`)}`]);

async function expectedModel(method: AnyMethodSpec, t: number): Promise<number[][]> {
  const files = new OpenFiles();
  const base = await openPath(join(dir, 'base.safetensors'), files);
  const tasks = await Promise.all(
    ['alpha', 'beta', 'gamma'].map(async (name) => ({
      name,
      checkpoint: await openPath(join(dir, `${name}.safetensors`), files),
    })),
  );
  const engine = new CpuEngine();
  const result = await runMerge(buildModelSet(base, tasks), method, engine);
  const bytes = await Promise.all(
    taskModel(result, t, engine).map(async (x) => Array.from(await collectBytes(x))),
  );
  await files.closeAll();
  return bytes;
}

async function modelValues(path: string): Promise<number[][]> {
  const files = new OpenFiles();
  const c = await openPath(path, files);
  const values = await Promise.all(
    [...c.tensors.values()].map(async (e) => Array.from(await e.data.read(0, e.byteLength))),
  );
  await files.closeAll();
  return values;
}

describe('merge-studio merge', () => {
  it('writes every task and the bundle, equal to the in-process merge', async () => {
    const out = join(dir, 'out-emr');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(dir, 'base.safetensors'),
      ...taskFlags(),
      '--out',
      out,
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.tasks.map((t: { name: string }) => t.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(summary.tasks[0].lambda).toBeGreaterThan(0);
    expect(summary.alignment.leftOut[0]).toMatchObject({ name: 'head.weight', reason: 'shape-mismatch' });
    expect((await readdir(out)).sort()).toEqual([
      'alpha.safetensors',
      'beta.safetensors',
      'emr-bundle.safetensors',
      'gamma.safetensors',
    ]);
    expect(await modelValues(join(out, 'beta.safetensors'))).toEqual(
      await expectedModel(methodSpec('emr'), 1),
    );
    // The bundle's bytes on disk (on a model this small, its manifest outweighs the task models).
    expect(summary.bundle.bytes).toBe((await readFile(join(out, 'emr-bundle.safetensors'))).byteLength);

    const applied = join(dir, 'gamma-from-bundle.safetensors');
    const a = await runCli([
      'apply',
      '--bundle',
      join(out, 'emr-bundle.safetensors'),
      '--base',
      join(dir, 'base.safetensors'),
      '--task',
      'gamma',
      '--out',
      applied,
    ]);
    expect(a.code).toBe(0);
    expect(await readFile(applied)).toEqual(await readFile(join(out, 'gamma.safetensors')));
  });

  it('writes models larger than --shard-size as Hugging Face shards with an index', async () => {
    const out = join(dir, 'out-sharded');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(dir, 'base.safetensors'),
      ...taskFlags(),
      '--shard-size',
      String(300 / 1e9), // 300 bytes: the 400-byte w alone, then b (40) and the head (80) together
      '--no-bundle',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const files = (await readdir(out)).sort();
    expect(files).toContain('beta.safetensors.index.json');
    expect(files.filter((f) => f.startsWith('beta-'))).toEqual([
      'beta-00001-of-00002.safetensors',
      'beta-00002-of-00002.safetensors',
    ]);
    expect(files.some((f) => f.includes('.partial'))).toBe(false);
    const sharded = await modelValues(join(out, 'beta.safetensors.index.json'));
    expect(sharded.sort()).toEqual((await expectedModel(methodSpec('emr'), 1)).sort());
  });

  it("takes the merge as mergekit YAML: ties is mergekit's with density, the paper's with k", async () => {
    const recipe = (params: string[], models: string[]) =>
      [
        'merge_method: ties',
        'base_model: base.safetensors',
        'parameters:',
        ...params,
        'models:',
        '  - model: alpha.safetensors',
        '  - model: beta.safetensors',
        '    name: second',
        ...models,
        '  - gamma.safetensors',
        '',
      ].join('\n');
    const config = join(dir, 'ties.yml');
    await writeFile(config, recipe(['  density: 0.5', '  lambda: 0.8'], ['    parameters: {weight: 0.5}']));
    const out = join(dir, 'out-ties');
    const r = await runCli(['merge', config, '--engine', 'cpu', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('TIES (mergekit) (per-model parameters, density = 0.5, λ = 0.8, normalize: true');
    expect((await readdir(out)).sort()).toEqual([
      'alpha.safetensors',
      'gamma.safetensors',
      'mergekit_config.yml', // the recipe, verbatim (mergekit's convention)
      'second.safetensors',
    ]);
    expect(await readFile(join(out, 'mergekit_config.yml'), 'utf8')).toBe(
      recipe(['  density: 0.5', '  lambda: 0.8'], ['    parameters: {weight: 0.5}']),
    );
    expect(await modelValues(join(out, 'second.safetensors'))).toEqual(
      await expectedModel(
        mergekitSpec('ties', { density: 0.5, lambda: 0.8, models: [{}, { weight: 0.5 }, {}] }),
        1,
      ),
    );

    const paper = join(dir, 'ties-paper.yml');
    await writeFile(paper, recipe(['  k: 0.5', '  lambda: 0.8'], []));
    const p = await runCli(['merge', paper, '--engine', 'cpu', '--out', join(dir, 'out-ties-paper')]);
    expect(p.err).toBe('');
    expect(p.out).toContain('TIES-Merging (k = 50 %, λ = 0.8)');
    expect(await modelValues(join(dir, 'out-ties-paper', 'second.safetensors'))).toEqual(
      await expectedModel(methodSpec('ties', { k: 0.5, lambda: 0.8 }), 1),
    );
  });

  it('runs a mergekit method from flags, with --param and --seed', async () => {
    const out = join(dir, 'out-dare');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(dir, 'base.safetensors'),
      ...taskFlags(),
      '--method',
      'dare_ties',
      '--param',
      'density=0.5',
      '--param',
      'weight=0.7',
      '--seed',
      '7',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'DARE TIES (weight = 0.7, density = 0.5, normalize: false, rescale: true, seed 7)',
    );
    expect(await modelValues(join(out, 'gamma.safetensors'))).toEqual(
      await expectedModel(mergekitSpec('dare_ties', { density: 0.5, weight: 0.7, seed: 7 }), 2),
    );
    const bad = await runCli([
      'merge',
      '--base',
      'b',
      '--method',
      'dare_ties',
      '--param',
      'densty=0.5',
      '--out',
      out,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--param: unknown key "densty"');
  });

  it('refuses unknown YAML keys by name', async () => {
    const config = join(dir, 'typo.yml');
    await writeFile(
      config,
      'merge_method: ta\nbase_model: base.safetensors\nparamters: {lambda: 1}\nmodels: [alpha.safetensors, beta.safetensors]\n',
    );
    const r = await runCli(['merge', config, '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown key "paramters"');
  });

  it('a missing file, a non-checkpoint and a mismatched model are one clear line each, exit 1, no output', async () => {
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeModel(join(dir, 'other.safetensors'), [
      { name: 'x', shape: [3], values: new Float32Array(3) },
    ]);
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.safetensors'), /missing\.safetensors: file not found/],
      [join(dir, 'notes.txt'), /notes\.txt: not a checkpoint/],
      // The studio's refusal, on the CLI too (docs/architecture.md#flow-decisions).
      [join(dir, 'other.safetensors'), /other\.safetensors: Not a fine-tune of this base/],
    ];
    for (const [path, message] of cases) {
      const out = join(dir, 'never');
      const r = await runCli([
        'merge',
        '--base',
        join(dir, 'base.safetensors'),
        '--task',
        `a=${join(dir, 'alpha.safetensors')}`,
        '--task',
        `x=${path}`,
        '--out',
        out,
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
      await expect(readdir(out)).rejects.toThrow();
    }
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['merge', '--base', 'x'])).code).toBe(2);
    expect((await runCli(['merge', '--base', 'x', '--out', 'y', '--method', 'magic'])).err).toContain(
      'unknown merge method "magic"',
    );
    // Names of Object.prototype are not methods either.
    const proto = await runCli(['merge', '--base', 'x', '--out', 'y', '--method', 'constructor']);
    expect(proto.code).toBe(2);
    expect(proto.err.split('\n')[0]).toBe(
      'merge-studio: unknown merge method "constructor" (use one of emr, avg, ta, ties, ties_paper, task_arithmetic, dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties, della, della_linear, linear, model_stock, slerp, multislerp, nuslerp, tsv_m, iso_c, iso_cts, tall_mask, consensus_ta, consensus_ties, t_switch, tsv_c)',
    );
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect(
      (await runCli(['merge', '--out', 'y', '--base', 'b', '--task', 'a=b', '--lambda', 'abc'])).err,
    ).toContain('--lambda wants a number');
  });
});
