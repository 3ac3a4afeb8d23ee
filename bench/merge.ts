// npm run bench: the merge engine end to end on a synthetic set (N = 8 tasks of ~16.6 M f32
// parameters, ~1 GB of task bytes with the base in all), for every method, beside a naive
// all-in-memory run of the same EMR formulas and a plain read of the same bytes from page cache.
// Each measured run is its own process, so each peak RSS is that run's own.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSyntheticSet } from '../src/merge/testing/synthetic';

const exec = promisify(execFile);
const numTasks = Number(process.env['BENCH_TASKS'] ?? 8);
const depth = Number(process.env['BENCH_DEPTH'] ?? 9);
const width = 384;

const dir = await mkdtemp(join(tmpdir(), 'merge-studio-bench-'));
try {
  process.stderr.write(
    `writing a synthetic set: base + ${numTasks} tasks, width ${width}, depth ${depth}…\n`,
  );
  const set = await writeSyntheticSet({ dir, numTasks, width, depth });
  await writeFile(join(dir, 'tasks.json'), JSON.stringify(set.tasks));
  const totalBytes = set.bytesPerModel * (numTasks + 1);

  const readStart = performance.now();
  for (const p of [set.base, ...set.tasks.map((t) => t.path)]) await readFile(p);
  const readSeconds = (performance.now() - readStart) / 1000;

  const runOne = async (...args: string[]) => {
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'merge-one.ts'), ...args],
      { maxBuffer: 1 << 24 },
    );
    return JSON.parse(stdout.trim().split('\n').pop() as string) as { seconds: number; peakRss: number };
  };
  const rows: [string, { seconds: number; peakRss: number }][] = [];
  for (const method of ['emr', 'avg', 'ta', 'ties'])
    rows.push([`streaming ${method}`, await runOne('streaming', dir, method)]);
  rows.push(['naive emr (all in memory)', await runOne('naive', dir)]);

  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  const streamingEmr = rows[0]?.[1] as { seconds: number; peakRss: number };
  console.log(
    `\nbase + ${numTasks} tasks × ${set.parameters.toLocaleString('en')} parameters (f32), ${mb(totalBytes)} MiB of inputs; every run reads them, merges, and writes ${numTasks} task models`,
  );
  console.log(
    `page-cache read of all inputs: ${readSeconds.toFixed(2)} s (${(totalBytes / 2 ** 30 / readSeconds).toFixed(1)} GiB/s)\n`,
  );
  console.log('| run | seconds | input GiB/s | peak RSS MiB | × read time | × streaming EMR time |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of rows) {
    console.log(
      `| ${name} | ${r.seconds.toFixed(2)} | ${(totalBytes / 2 ** 30 / r.seconds).toFixed(2)} | ${mb(r.peakRss)} | ${(r.seconds / readSeconds).toFixed(1)} | ${(r.seconds / streamingEmr.seconds).toFixed(2)} |`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
