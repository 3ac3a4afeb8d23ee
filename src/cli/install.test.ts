// The command line as a user gets it: `npm pack` (which builds dist-cli/ through `prepare`), then
// `npm install -g --prefix <tmp>` of the tarball (its dependencies from the npm cache, the registry
// asked only for metadata), then the installed `merge-studio` run from a folder outside the
// repository: --help, <command> --help, --version, and a real merge whose files must equal, byte
// for byte, those of the same merge run by the sources (runCli, in this process). TIES on the CPU
// engine, with a tensor large enough to be split over the worker threads, so the built worker
// entry is exercised too; EMR for the bundle. And `eval`, whose onnxruntime-web (kept out of the
// bundle) comes from the installed package's node_modules. Linux/macOS paths (prefix/bin/…).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccuracyTable } from '../inference/table';
import { MIN_PARALLEL_ELEMENTS } from '../merge/cpu/parallel';
import { writeSyntheticSet, type SyntheticSet } from '../merge/testing/synthetic';
import { runCli } from './testing';
import { VERSION } from './usage';

const exec = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;

let dir: string;
let bin: string;
let work: string; // the folder the installed CLI runs in: outside the repository
let set: SyntheticSet;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-install-'));
  work = join(dir, 'work');
  await mkdir(work);
  const { stdout } = await exec('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: REPO,
    maxBuffer: 1 << 24,
  });
  const tarball = join(dir, stdout.trim().split('\n').pop() as string);
  const prefix = join(dir, 'prefix');
  await exec(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
    { cwd: work, maxBuffer: 1 << 24 },
  );
  bin = join(prefix, 'bin', 'merge-studio');
  // width 128: the MLP weights (128 × 512) reach the size at which the CPU engine uses its workers.
  set = await writeSyntheticSet({ dir: join(dir, 'set'), numTasks: 2, width: 128, depth: 1 });
  expect(128 * 512).toBeGreaterThanOrEqual(MIN_PARALLEL_ELEMENTS);
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const installed = (...args: string[]) => exec(bin, args, { cwd: work, maxBuffer: 1 << 24 });

describe('the installed merge-studio', () => {
  it('prints its usage and version and exits 0, from a folder outside the repository', async () => {
    const help = await installed('--help');
    for (const c of ['merge', 'apply', 'inspect', 'eval'])
      expect(help.stdout).toContain(`merge-studio ${c} `);
    for (const c of ['merge', 'apply', 'inspect', 'eval']) {
      const { stdout } = await installed(c, '--help');
      expect(stdout).toMatch(new RegExp(`^usage:\\n  merge-studio ${c} `));
    }
    const mergeHelp = (await installed('merge', '--help')).stdout;
    expect(mergeHelp).toContain('--method NAME');
    expect(mergeHelp).toContain('hf://org/name');
    expect((await installed('--version')).stdout.trim()).toBe(VERSION);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  }, 60_000);

  it('runs no TypeScript: the package holds the built CLI, and no tsx', async () => {
    const root = join(dir, 'prefix', 'lib', 'node_modules', 'merge-studio');
    const files = await readdir(root, { recursive: true });
    expect(files).toContain(join('dist-cli', 'main.mjs'));
    expect(files).toContain(join('dist-cli', 'node-worker-entry.mjs'));
    expect(files.filter((f) => !f.startsWith('node_modules') && f.endsWith('.ts'))).toEqual([]);
    expect(files).not.toContain(join('node_modules', 'tsx'));
  });

  it('runs eval on onnxruntime-web from its own node_modules, with the zoo’s reference accuracies', async () => {
    // Two digits-8 tasks, EMR only: the individual row must be the accuracies the zoo's script
    // computed with plain torch (manifest.reference), to 0.5 % as in ./zoo.test.ts.
    const zoo = join(REPO, 'public/zoo/digits-8');
    const manifest = JSON.parse(await readFile(join(zoo, 'manifest.json'), 'utf8')) as {
      reference: { individual: { accuracy: Record<string, number> } };
    };
    const tasks = ['ge5', 'inverted'];
    const { stdout } = await installed(
      'eval',
      ...['--base', join(zoo, 'base.onnx')],
      ...tasks.flatMap((t) => ['--task', `${t}=${join(zoo, `${t}.onnx`)}`]),
      ...tasks.flatMap((t) => ['--eval', `${t}=${join(zoo, 'eval', `${t}.safetensors`)}`]),
      ...['--methods', 'emr', '--no-route', '--json'],
    );
    const table = JSON.parse(stdout) as AccuracyTable;
    expect(table.tasks).toEqual(tasks);
    const individual = table.rows.find((r) => r.method === 'Individual')?.accuracy;
    tasks.forEach((t, i) =>
      expect(
        Math.abs((individual?.[i] ?? NaN) - (manifest.reference.individual.accuracy[t] ?? NaN)),
      ).toBeLessThanOrEqual(0.005),
    );
    expect(table.rows.some((r) => r.method.startsWith('EMR-Merging'))).toBe(true);
  }, 120_000);

  for (const method of ['ties', 'emr']) {
    it(`merges (${method}) to the same bytes as the sources`, async () => {
      const args = (out: string) => [
        'merge',
        ...['--base', set.base],
        ...set.tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
        ...['--method', method, '--engine', 'cpu', '--out', out],
      ];
      const outInstalled = join(dir, `installed-${method}`);
      const outSources = join(dir, `sources-${method}`);
      const run = await installed(...args(outInstalled));
      expect(run.stdout).toContain('workers');
      const fromSources = await runCli(args(outSources));
      expect(fromSources.code, fromSources.err).toBe(0);

      const names = (await readdir(outSources)).sort();
      expect(names.length).toBe(method === 'emr' ? 3 : 2);
      expect((await readdir(outInstalled)).sort()).toEqual(names);
      for (const n of names) {
        const [a, b] = await Promise.all([readFile(join(outInstalled, n)), readFile(join(outSources, n))]);
        expect(a.equals(b), n).toBe(true);
      }
    }, 120_000);
  }
});
