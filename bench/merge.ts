// npm run bench: the merge engine end to end on a synthetic set (N = 8 tasks of ~16.6 M f32
// parameters, ~1 GB of task bytes with the base in all), for every method, beside a naive
// all-in-memory run of the same EMR formulas and a plain read of the same bytes from page cache;
// then every method through the built command line beside EMR (./methods.ts; the spectral ones on
// a set of BENCH_SPECTRAL_DEPTH blocks, default 1, for their SVDs).
// Each measured run is its own process, so each peak RSS is that run's own. Then the installed
// command line's own numbers: its start-up (`merge-studio --version` of the built CLI, dist-cli/,
// median of several runs), and its end-to-end EMR (spawned, start-up included) as a ratio to the
// I/O floor on the same set: reading every input from page cache plus writing the same output bytes.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSyntheticSet } from '../src/merge/testing/synthetic';
import { cliRuns, ioFloorSeconds, median, startupMs } from './cli';
import { METHODS, methodRun, methodTable, SPECTRAL_METHODS, type MethodRun } from './methods';

const exec = promisify(execFile);
const numTasks = Number(process.env['BENCH_TASKS'] ?? 8);
const depth = Number(process.env['BENCH_DEPTH'] ?? 9);
const width = 384;
/** Rounds of (CLI merge, I/O floor, tighter floor) for the command line's ratio. */
const CLI_ROUNDS = 7;
// The spectral methods run on a set of this many blocks (an SVD per 2-D weight; docs/benchmarks.md).
const spectralDepth = Number(process.env['BENCH_SPECTRAL_DEPTH'] ?? 1);
// BENCH_METHODS=0: no per-method table; BENCH_METHODS_ONLY=1: only it.
const methodsOnly = process.env['BENCH_METHODS_ONLY'] === '1';

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
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(
    `\nbase + ${numTasks} tasks × ${set.parameters.toLocaleString('en')} parameters (f32), ${mb(totalBytes)} MiB of inputs; every run reads them, merges, and writes ${numTasks} task models`,
  );
  console.log(
    `page-cache read of all inputs: ${readSeconds.toFixed(2)} s (${(totalBytes / 2 ** 30 / readSeconds).toFixed(1)} GiB/s)\n`,
  );
  // BENCH_CLI_ONLY=1: only the command line's numbers below (start-up, EMR against the I/O floor).
  if (process.env['BENCH_CLI_ONLY'] !== '1' && !methodsOnly) {
    const rows: [string, { seconds: number; peakRss: number }][] = [];
    for (const method of ['emr', 'avg', 'ta', 'ties'])
      rows.push([`streaming ${method}`, await runOne('streaming', dir, method)]);
    rows.push(['naive emr (all in memory)', await runOne('naive', dir)]);
    const streamingEmr = rows[0]?.[1] as { seconds: number; peakRss: number };
    console.log('| run | seconds | input GiB/s | peak RSS MiB | × read time | × streaming EMR time |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [name, r] of rows) {
      console.log(
        `| ${name} | ${r.seconds.toFixed(2)} | ${(totalBytes / 2 ** 30 / r.seconds).toFixed(2)} | ${mb(r.peakRss)} | ${(r.seconds / readSeconds).toFixed(1)} | ${(r.seconds / streamingEmr.seconds).toFixed(2)} |`,
      );
    }
  }

  // Every method through the built command line, beside EMR; the spectral ones on a smaller set.
  if (process.env['BENCH_METHODS'] !== '0' && process.env['BENCH_CLI_ONLY'] !== '1') {
    const runs: MethodRun[] = [];
    for (const m of METHODS) {
      runs.push(await methodRun(dir, set.base, set.tasks, m));
      process.stderr.write(`${runs.at(-1)?.label}: ${runs.at(-1)?.seconds.toFixed(2)} s\n`);
    }
    console.log(
      `\nevery method, merge-studio merge (built CLI, spawned, --engine cpu --no-bundle), this set:\n`,
    );
    console.log(methodTable(runs));
    const small = join(dir, 'spectral');
    const sub = await writeSyntheticSet({ dir: small, numTasks, width, depth: spectralDepth });
    const spectral: MethodRun[] = [];
    for (const m of SPECTRAL_METHODS) {
      spectral.push(await methodRun(small, sub.base, sub.tasks, m));
      process.stderr.write(`${spectral.at(-1)?.label}: ${spectral.at(-1)?.seconds.toFixed(2)} s\n`);
    }
    console.log(
      `\nthe spectral methods on a set of depth ${spectralDepth} (base + ${numTasks} tasks × ${sub.parameters.toLocaleString('en')} parameters, ${mb(sub.bytesPerModel * (numTasks + 1))} MiB):\n`,
    );
    console.log(methodTable(spectral));
    console.log(
      `load average: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}`,
    );
  }
  if (!methodsOnly) {
    // The command line as installed: built JavaScript (npm run bench builds it first), spawned.
    // Rounds of (CLI, floor, tighter floor) in turn, medians and bests: the three see the same
    // load. Seven rounds: on a VM one round's floor alone swings 0.6–3 s (docs/benchmarks.md).
    const startup = await startupMs();
    const cliTimes: number[] = [];
    const floorTimes: number[] = [];
    const tightTimes: number[] = [];
    let outputs: number[] = [];
    const inputs = [set.base, ...set.tasks.map((t) => t.path)];
    for (let round = 0; round < CLI_ROUNDS; round++) {
      const { seconds, out } = await cliRuns(dir, set.base, set.tasks);
      cliTimes.push(seconds);
      outputs = await Promise.all((await readdir(out)).map(async (n) => (await stat(join(out, n))).size));
      floorTimes.push(await ioFloorSeconds(inputs, outputs, dir));
      tightTimes.push(await ioFloorSeconds(inputs, outputs, dir, { reuse: true }));
    }
    const [cliSeconds, floor] = [median(cliTimes), median(floorTimes)];
    // Each round's own ratio too: the two runs of a round saw the same moment's load.
    const roundRatio = median(cliTimes.map((c, i) => c / (floorTimes[i] as number)));
    // And best against best: on a VM the cost of fresh pages swings one run 0.6–2.5 s
    // (docs/benchmarks.md), and the least time each took is the one least disturbed.
    const best = (xs: number[]) => Math.min(...xs);
    const outBytes = outputs.reduce((a, b) => a + b, 0);
    const secs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    console.log(
      `\nmerge-studio --version (built CLI, dist-cli/): ${startup.cli.toFixed(0)} ms median of ${startup.runs}, best ${startup.cliBest.toFixed(0)} ms (node -e 0: ${startup.bare.toFixed(0)} ms median, best ${startup.bareBest.toFixed(0)} ms)`,
    );
    console.log(
      `I/O floor: read ${mb(totalBytes)} MiB of inputs from page cache + write ${mb(outBytes)} MiB of outputs (${outputs.length} files): ${floor.toFixed(2)} s (median of ${secs(floorTimes)}; best ${best(floorTimes).toFixed(2)})`,
    );
    console.log(
      `merge-studio merge (EMR, --engine cpu, spawned, start-up included): ${cliSeconds.toFixed(2)} s (median of ${secs(cliTimes)}; best ${best(cliTimes).toFixed(2)}) = ${(cliSeconds / floor).toFixed(2)}× the I/O floor (median of the rounds' own ratios: ${roundRatio.toFixed(2)}×; best against best: ${(best(cliTimes) / best(floorTimes)).toFixed(2)}×)`,
    );
    console.log(
      `the tighter floor, every input read into one reused buffer: ${median(tightTimes).toFixed(2)} s (median of ${secs(tightTimes)}; best ${best(tightTimes).toFixed(2)}): the merge is ${(best(cliTimes) / best(tightTimes)).toFixed(2)}× it, best against best`,
    );
    console.log(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
