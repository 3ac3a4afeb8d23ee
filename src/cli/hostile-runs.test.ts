// Plan: issue #14, part A, continued (./hostile.test.ts) — a dangling link beside a valid base
// (ignored), a missing folder and odd --task flags (clear lines, no raw ENOENT), a dtype refusal
// that names the task and its file, the bundle's size reported as the bytes on disk, and Ctrl-C
// mid-merge (exit 130, nothing partial left).
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { hostileInputs, model } from './hostile-fixtures';
import { runCli } from './testing';
import { writeSyntheticSet } from '../merge/testing/synthetic';

let dir: string;
let inputs: string;
beforeAll(async () => {
  ({ dir, inputs } = await hostileInputs());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const base = () => join(inputs, 'base.safetensors');
const taskA = () => join(inputs, 'a.safetensors');
const taskB = () => join(inputs, 'b.safetensors');

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
