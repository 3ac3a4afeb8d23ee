// Plan: the command line end to end on checkpoints written to a temp directory — merge by flags
// and by mergekit-style YAML writes every task's model and the bundle, and they load back equal to
// the in-process merge; apply rebuilds a task from the bundle byte for byte; inspect lists tensors
// and the alignment; bad input gives one clear line and the documented exit code, and never a
// file under a final name. Two runs go through the real bin (npx) to check the exit codes.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeOnnx, type OnnxCheckpoint } from '../formats/onnx';
import { writeSafetensors } from '../formats/safetensors';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { methodSpec, type AnyMethodSpec } from '../merge/methods';
import { mergekitSpec } from '../merge/mergekit/spec';
import { buildModelSet } from '../merge/model-set';
import { collectBytes, taskModel } from '../merge/task-model';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

let dir: string;

async function writeModel(path: string, tensors: { name: string; shape: number[]; values: Float32Array }[]) {
  await writeSafetensors(
    await fileSink(path),
    tensors.map((t) => ({
      name: t.name,
      dtype: 'F32' as const,
      shape: t.shape,
      bytes: new Uint8Array(t.values.buffer),
    })),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-cli-'));
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = Float32Array.from({ length: 100 }, rnd);
  const b = Float32Array.from({ length: 10 }, rnd);
  await writeModel(join(dir, 'base.safetensors'), [
    { name: 'w', shape: [10, 10], values: w },
    { name: 'b', shape: [10], values: b },
    { name: 'head.weight', shape: [4, 10], values: new Float32Array(40) },
  ]);
  for (const [t, classes] of [
    ['alpha', 3],
    ['beta', 2],
    ['gamma', 5],
  ] as const) {
    await writeModel(join(dir, `${t}.safetensors`), [
      { name: 'w', shape: [10, 10], values: w.map((x) => x + rnd() * 0.05) },
      { name: 'b', shape: [10], values: b.map((x) => x + rnd() * 0.05) },
      { name: 'head.weight', shape: [classes, 10], values: Float32Array.from({ length: classes * 10 }, rnd) },
    ]);
  }
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
      'merge-studio: unknown merge method "constructor" (use one of emr, avg, ta, ties, ties_paper, task_arithmetic, dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties, della, della_linear, linear, model_stock, slerp, multislerp, nuslerp, tsv_m, iso_c, iso_cts, tall_mask, consensus_ta, consensus_ties, t_switch)',
    );
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect(
      (await runCli(['merge', '--out', 'y', '--base', 'b', '--task', 'a=b', '--lambda', 'abc'])).err,
    ).toContain('--lambda wants a number');
  });
});

describe('ONNX tasks', () => {
  it('are written back as ONNX: same graph, merged initializers', async () => {
    // A base and three tasks made from a torch-exported ONNX model by perturbing its initializers.
    const files = new OpenFiles();
    const fixture = await openPath('src/formats/onnx/__fixtures__/mlp.onnx', files);
    const onnxDir = join(dir, 'onnx');
    await mkdir(onnxDir, { recursive: true });
    let s = 3;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    for (const name of ['base', 'one', 'two', 'three']) {
      const replacements = new Map();
      for (const e of fixture.tensors.values()) {
        if (e.dtype !== 'F32') continue;
        const v = new Float32Array((await e.data.read(0, e.byteLength)).slice().buffer);
        replacements.set(
          e.name,
          new Uint8Array(v.map((x) => (name === 'base' ? x : x + rnd() * 0.01)).buffer),
        );
      }
      await writeOnnx(fixture as OnnxCheckpoint, replacements, await fileSink(join(onnxDir, `${name}.onnx`)));
    }
    await files.closeAll();
    const out = join(dir, 'out-onnx');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(onnxDir, 'base.onnx'),
      ...['one', 'two', 'three'].flatMap((t) => ['--task', `${t}=${join(onnxDir, `${t}.onnx`)}`]),
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      'emr-bundle.safetensors',
      'one.onnx',
      'three.onnx',
      'two.onnx',
    ]);
    const check = new OpenFiles();
    const base = await openPath(join(onnxDir, 'base.onnx'), check);
    const tasks = await Promise.all(
      ['one', 'two', 'three'].map(async (name) => ({
        name,
        checkpoint: await openPath(join(onnxDir, `${name}.onnx`), check),
      })),
    );
    const engine = new CpuEngine();
    const result = await runMerge(buildModelSet(base, tasks), methodSpec('emr'), engine);
    const want = await Promise.all(
      taskModel(result, 2, engine).map(async (x) => [x.name, Array.from(await collectBytes(x))]),
    );
    const got = await openPath(join(out, 'three.onnx'), check);
    expect(got.format).toBe('onnx');
    const gotValues = await Promise.all(
      [...got.tensors.values()].map(async (e) => [e.name, Array.from(await e.data.read(0, e.byteLength))]),
    );
    expect(gotValues.sort()).toEqual(want.sort());
    await check.closeAll();
  });
});

describe('merge-studio eval', () => {
  it('needs a labeled set per task and ONNX models', async () => {
    const base = [
      'eval',
      '--base',
      join(dir, 'base.safetensors'),
      '--task',
      `alpha=${join(dir, 'alpha.safetensors')}`,
      '--task',
      `beta=${join(dir, 'beta.safetensors')}`,
    ];
    const noSets = await runCli(base);
    expect(noSets.code).toBe(2);
    expect(noSets.err).toContain('--eval alpha=SET.safetensors (missing: alpha, beta)');
    const withSets = await runCli([
      ...base,
      '--eval',
      `alpha=${join(dir, 'alpha.safetensors')}`,
      '--eval',
      `beta=${join(dir, 'beta.safetensors')}`,
    ]);
    expect(withSets.code).toBe(2);
    expect(withSets.err).toContain('give alpha as .onnx, or its graph with --graph alpha=FILE.onnx');
  });
});

describe('merge-studio inspect', () => {
  it('lists tensors and what would be merged', async () => {
    const r = await runCli([
      'inspect',
      join(dir, 'base.safetensors'),
      join(dir, 'alpha.safetensors'),
      join(dir, 'beta.safetensors'),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/head\.weight\s+F32\s+\[4, 10\]/);
    expect(r.out).toContain('2 tensors merged (110 parameters)');
    expect(r.out).toContain('left out head.weight: shape-mismatch');
  });
});

describe('the installed bin', () => {
  const exec = promisify(execFile);
  it('runs through npx with the documented exit codes', async () => {
    const ok = await exec('npx', ['merge-studio', 'inspect', join(dir, 'alpha.safetensors')]);
    expect(ok.stdout).toContain('3 tensors');
    const bad = await exec('npx', ['merge-studio', 'inspect', join(dir, 'missing.safetensors')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('missing.safetensors: file not found');
  }, 30_000);
});
