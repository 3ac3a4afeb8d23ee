// Plan: what outside reviewers tried on the command line (issue #14, part A), each case on real
// files in a temp folder — a FIFO where a checkpoint or config should be (refused at once, never
// blocking), outputs that would replace inputs or each other (refused before any work, naming both
// paths, inputs byte for byte unchanged), task names that would leave --out, a link planted at the
// old predictable temporary name (never followed), hostile bundles given to apply (refused naming
// the bundle, no output), a dangling link beside a valid base (ignored), a missing folder and odd
// --task flags (clear lines, no raw ENOENT), a dtype refusal that names the task and its file, and
// the bundle's size reported as the bytes on disk.
import { execFileSync, spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { openSafetensors, writeSafetensors } from '../formats/safetensors';
import { readTensor } from '../formats/tensor';
import { OpenFiles } from './files';
import { runCli } from './testing';
import { writeSyntheticSet } from '../merge/testing/synthetic';

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

async function model(path: string, seed: number) {
  await writeModel(path, [
    {
      name: 'w',
      shape: [4, 4],
      values: Float32Array.from({ length: 16 }, (_, i) => i + seed * ((i % 3) - 1)),
    },
    { name: 'head', shape: [2], values: new Float32Array(2).fill(seed) },
  ]);
}

/** Every file under `root` with its bytes, to show that nothing an input holds changed. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(root, { recursive: true })) {
    const path = join(root, name);
    const s = await lstat(path);
    if (s.isFile()) out.set(name, (await readFile(path)).toString('base64'));
    else if (s.isSymbolicLink()) out.set(name, 'link');
  }
  return out;
}

let inputs: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-hostile-'));
  inputs = join(dir, 'in');
  await mkdir(inputs);
  await model(join(inputs, 'base.safetensors'), 0);
  await model(join(inputs, 'a.safetensors'), 1);
  await model(join(inputs, 'b.safetensors'), 2);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const base = () => join(inputs, 'base.safetensors');
const taskA = () => join(inputs, 'a.safetensors');
const taskB = () => join(inputs, 'b.safetensors');

describe('hangs', () => {
  it('a FIFO named model.safetensors, as a checkpoint, a folder entry, a YAML job or adapter config: refused at once', async () => {
    const fifos = join(dir, 'fifo');
    await mkdir(join(fifos, 'adapter'), { recursive: true });
    execFileSync('mkfifo', [
      join(fifos, 'model.safetensors'),
      join(fifos, 'job.yml'),
      join(fifos, 'adapter', 'adapter_config.json'),
    ]);
    // Before: open() waited for a writer forever, and Ctrl-C could not stop it.
    const inspect = await runCli(['inspect', join(fifos, 'model.safetensors')]);
    expect(inspect.code).toBe(1);
    expect(inspect.err).toContain(
      `${join(fifos, 'model.safetensors')}: a named pipe (FIFO), not a regular file`,
    );
    const folder = await runCli(['inspect', fifos]);
    expect(folder.err).toContain('a named pipe (FIFO)');
    const yaml = await runCli(['merge', join(fifos, 'job.yml'), '--out', join(dir, 'never')]);
    expect(yaml.code).toBe(1);
    expect(yaml.err).toContain(`${join(fifos, 'job.yml')}: a named pipe (FIFO)`);
    const adapter = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `a=${taskA()}`,
      '--task',
      `x=${join(fifos, 'adapter')}`,
      '--out',
      join(dir, 'never'),
    ]);
    expect(adapter.code).toBe(1);
    expect(adapter.err).toContain('adapter_config.json: a named pipe (FIFO)');
    const files = new OpenFiles();
    await expect(files.readText(join(fifos, 'job.yml'))).rejects.toThrow(/not a regular file/);
    await files.closeAll();
  });
});

describe('inputs never overwritten', () => {
  it('--out at the folder holding the inputs: refused before any work, naming both paths', async () => {
    const before = await snapshot(inputs);
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      taskA(),
      '--task',
      taskB(),
      '--out',
      inputs,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${join(inputs, 'a.safetensors')} (the model of task "a") would replace the input ${taskA()}`,
    );
    expect(await snapshot(inputs)).toEqual(before);
  });

  it('a task named base with --out at the base’s folder: refused; through a link to the folder too', async () => {
    const before = await snapshot(inputs);
    await symlink(inputs, join(dir, 'link-to-in'));
    for (const out of [inputs, join(dir, 'link-to-in')]) {
      const r = await runCli([
        'merge',
        '--base',
        base(),
        '--task',
        `base=${taskA()}`,
        '--task',
        `b2=${taskB()}`,
        '--out',
        out,
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /base\.safetensors \(the model of task "base"\) would replace the input .*base\.safetensors/,
      );
    }
    expect(await snapshot(inputs)).toEqual(before);
  });

  it('an output that is a hard link to an input: refused', async () => {
    const out = join(dir, 'hard');
    await mkdir(out);
    execFileSync('ln', [taskA(), join(out, 'x.safetensors')]);
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `x=${taskA()}`,
      '--task',
      `y=${taskB()}`,
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`would replace the input ${taskA()}`);
  });

  it('apply --out at the bundle or the base: refused, the bundle intact', async () => {
    const out = join(dir, 'for-apply');
    expect(
      (
        await runCli([
          'merge',
          '--base',
          base(),
          '--task',
          taskA(),
          '--task',
          taskB(),
          '--engine',
          'cpu',
          '--out',
          out,
        ])
      ).code,
    ).toBe(0);
    const bundle = join(out, 'emr-bundle.safetensors');
    const bytes = await readFile(bundle);
    for (const target of [bundle, base()]) {
      const r = await runCli(['apply', '--bundle', bundle, '--base', base(), '--task', 'a', '--out', target]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`would replace the input ${target}`);
    }
    expect(await readFile(bundle)).toEqual(bytes);
  });
});

describe('nothing written outside --out', () => {
  it.each([
    ['../../escaped', /contains a path separator/],
    ['emr-bundle', /reserved for the bundle's file/],
    ['', /is empty/],
    ['..', /path separator|folder reference/],
    ['.hidden', /starts with "\."/],
    ['con', /reserved device name on Windows/],
    ['a\u0007b', /control character/],
    ['x:y', /which Windows refuses/],
  ])('a YAML task named %j is refused before anything is read', async (name, message) => {
    const root = join(dir, `yaml-${Buffer.from(name).toString('hex')}`);
    await mkdir(join(root, 'deep', 'er'), { recursive: true });
    const job = join(root, 'deep', 'er', 'job.yml');
    await writeFile(
      job,
      `merge_method: emr\nbase_model: ${base()}\nmodels:\n  - {model: ${taskA()}, name: ${JSON.stringify(name)}}\n  - {model: ${taskB()}, name: other}\n`,
    );
    const r = await runCli(['merge', job, '--out', join(root, 'deep', 'er', 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(await readdir(root)).toEqual(['deep']);
    expect((await readdir(join(root, 'deep', 'er'))).sort()).toEqual(['job.yml']);
  });

  it('a link planted at the old temporary name is never followed', async () => {
    const out = join(dir, 'planted');
    await mkdir(out);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'untouched');
    for (const name of [
      '.a.safetensors.partial',
      '.b.safetensors.partial',
      '.emr-bundle.safetensors.partial',
    ])
      await symlink(victim, join(out, name));
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      taskA(),
      '--task',
      taskB(),
      '--engine',
      'cpu',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    const a = await openSafetensors(await new OpenFiles().open(join(out, 'a.safetensors')));
    expect([...a.tensors.keys()]).toEqual(['w', 'head']);
    expect((await readdir(out)).filter((n) => n.endsWith('.partial')).sort()).toEqual([
      '.a.safetensors.partial',
      '.b.safetensors.partial',
      '.emr-bundle.safetensors.partial',
    ]); // only the planted links, left alone
  });

  it('two task names that are one file on a case-insensitive disk: refused', async () => {
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `Same=${taskA()}`,
      '--task',
      `same=${taskB()}`,
      '--out',
      join(dir, 'never'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('would be one file on a case-insensitive disk');
  });
});

describe('hostile bundles given to apply', () => {
  it.each([
    ['null', 'null', /the bundle's manifest: the manifest is null/],
    ['lambda "abc"', 'LAMBDA', /lambda "abc" is not a finite number/],
    [
      'tasks missing',
      '{"version":"1","method":{"method":"emr","rescale":"global"},"includesTaskSpecific":true,"shared":[]}',
      /tasks is undefined, not a list/,
    ],
  ])('%s: exit 1, the bundle named, no output', async (_, manifest, message) => {
    const out = join(dir, 'for-hostile-apply');
    await rm(out, { recursive: true, force: true });
    expect(
      (
        await runCli([
          'merge',
          '--base',
          base(),
          '--task',
          taskA(),
          '--task',
          taskB(),
          '--engine',
          'cpu',
          '--out',
          out,
        ])
      ).code,
    ).toBe(0);
    const good = await openSafetensors(await new OpenFiles().open(join(out, 'emr-bundle.safetensors')));
    const text =
      manifest === 'LAMBDA'
        ? (good.metadata.get('manifest') as string).replace(/"lambda":[^,]+/, '"lambda":"abc"')
        : manifest;
    const hostile = join(dir, 'hostile-bundle.safetensors');
    await writeSafetensors(
      await fileSink(hostile),
      await Promise.all(
        [...good.tensors.values()].map(async (e) => ({
          name: e.name,
          dtype: e.dtype,
          shape: e.shape,
          bytes: await readTensor(e),
        })),
      ),
      { format: 'merge-studio/emr-bundle', manifest: text },
    );
    const target = join(dir, 'applied.safetensors');
    const r = await runCli(['apply', '--bundle', hostile, '--base', base(), '--task', 'a', '--out', target]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${hostile}: `);
    expect(r.err).toMatch(message);
    expect(await lstat(target).catch(() => undefined)).toBeUndefined();
  });
});

describe('a valid file is not refused for its neighbours', () => {
  it('a dangling link and a FIFO beside a valid base: the merge runs', async () => {
    const hf = join(dir, 'hf-cache');
    await mkdir(hf);
    await model(join(hf, 'base.safetensors'), 0);
    await symlink(join(hf, 'blobs', 'gone'), join(hf, 'dangling.safetensors'));
    execFileSync('mkfifo', [join(hf, 'pipe')]);
    const r = await runCli([
      'merge',
      '--base',
      join(hf, 'base.safetensors'),
      '--task',
      taskA(),
      '--task',
      taskB(),
      '--engine',
      'cpu',
      '--out',
      join(dir, 'hf-out'),
    ]);
    expect(r.code, r.err).toBe(0);
  });

  it('a missing folder and odd --task flags: one clear line, no raw ENOENT', async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['--task', `a=${join(dir, 'no-such-folder', 'a.safetensors')}`],
        1,
        /no-such-folder\/a\.safetensors: file not found/,
      ],
      [['--task', `dir/a=${taskA()}`], 1, /dir\/a=.*: file not found/],
      [['--task', `=${taskA()}`], 2, /--task =.*: the task name is empty/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await runCli([
        'merge',
        '--base',
        base(),
        '--task',
        `b=${taskB()}`,
        ...flags,
        '--out',
        join(dir, 'never'),
      ]);
      expect(r.code, r.err).toBe(code);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/ENOENT|scandir/);
    }
  });

  it('a task refused for its dtypes names the task and its file', async () => {
    const ints = join(dir, 'ints.safetensors');
    await writeSafetensors(await fileSink(ints), [
      { name: 'w', dtype: 'I64', shape: [4, 4], bytes: new Uint8Array(128) },
      { name: 'head', dtype: 'I64', shape: [2], bytes: new Uint8Array(16) },
    ]);
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      `a=${taskA()}`,
      '--task',
      `ints=${ints}`,
      '--out',
      join(dir, 'never'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`dtype I64 in task ints (${ints}) is not merged`);
    expect(r.err).toContain(`ints: ${ints}`);
  });
});

describe('the bundle’s size', () => {
  it('merge --json reports the bundle file’s bytes on disk', async () => {
    const out = join(dir, 'sized');
    const r = await runCli([
      'merge',
      '--base',
      base(),
      '--task',
      taskA(),
      '--task',
      taskB(),
      '--engine',
      'cpu',
      '--json',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out) as { bundle: { bytes: number } };
    expect(summary.bundle.bytes).toBe((await readFile(join(out, 'emr-bundle.safetensors'))).byteLength);
  });
});

describe('Ctrl-C', () => {
  const MAIN = new URL('./main.ts', import.meta.url).pathname;
  const RAW = new URL('../../bin/raw-loader-register.mjs', import.meta.url).pathname;

  /**
   * The CLI in a child process whose stderr counts as a terminal, so it draws its progress bar: the
   * bar's first frame is the signal that the merge is under way, and SIGINT is sent then.
   */
  function interruptOnceDrawing(args: string[]): Promise<{ code: number | null; err: string }> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        RAW,
        '--input-type=module',
        '-e',
        `process.stderr.isTTY = true; const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(JSON.parse(process.env.CLI_ARGS));`,
      ],
      { env: { ...process.env, CLI_ARGS: JSON.stringify(args) }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!sent && /\d+%/.test(err)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    return new Promise((done) => child.on('exit', (code) => done({ code, err })));
  }

  it('mid-merge: exits 130 at the next chunk, no partial or scratch file left', async () => {
    const root = join(dir, 'sigint');
    // Large enough (3 × 16 MB, read in 1 MB chunks) that the merge is still going when the signal lands.
    const set = await writeSyntheticSet({ dir: root, numTasks: 2, width: 512, depth: 4 });
    const out = join(root, 'out');
    const r = await interruptOnceDrawing([
      'merge',
      '--base',
      set.base,
      ...set.tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
      '--engine',
      'cpu',
      '--budget',
      '1',
      '--spill-over',
      '0',
      '--out',
      out,
    ]);
    expect(r.code, `${set.bytesPerModel} bytes a model; stderr: ${r.err}`).toBe(130);
    expect(r.err).toContain('merge-studio: interrupted; no partial output was left');
    const left = await readdir(out).catch(() => []);
    expect(left.filter((n) => n.endsWith('.partial') || n.endsWith('.scratch'))).toEqual([]);
  }, 300_000);
});
