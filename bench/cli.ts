// The command line's numbers for npm run bench (./merge.ts): start-up of the built CLI, its
// end-to-end EMR merge in a child process, and the I/O floor that merge is held against.
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const BIN = new URL('../bin/merge-studio.js', import.meta.url).pathname;
const RUNS = 11;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function wallMs(args: string[]): Promise<{ ms: number; stderr: string }> {
  const started = performance.now();
  const { stderr } = await exec(process.execPath, args);
  return { ms: performance.now() - started, stderr };
}

/** `merge-studio --version` and a bare `node -e 0`, each run RUNS times, interleaved: medians and bests. */
export async function startupMs(): Promise<{
  cli: number;
  cliBest: number;
  bare: number;
  bareBest: number;
  runs: number;
}> {
  const cli: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await wallMs([BIN, '--version']);
    // bin/ falls back to the sources (and says so) when dist-cli/ is stale: that is not the built CLI.
    if (run.stderr) throw new Error(`merge-studio --version did not run the built CLI: ${run.stderr}`);
    cli.push(run.ms);
    bare.push((await wallMs(['-e', '0'])).ms);
  }
  return {
    cli: median(cli),
    cliBest: Math.min(...cli),
    bare: median(bare),
    bareBest: Math.min(...bare),
    runs: RUNS,
  };
}

/**
 * Flushes the dirty pages earlier runs left (`sync`), so that no writeback of their ~1.2 GB runs
 * under the run that follows: each timed run starts from the same state, page cache alone.
 */
async function settle(): Promise<void> {
  await exec('sync');
}

/** `merge-studio merge` (EMR, CPU engine, bundle included) spawned, timed from spawn to exit. */
export async function cliRuns(
  dir: string,
  base: string,
  tasks: readonly { name: string; path: string }[],
): Promise<{ seconds: number; out: string }> {
  const out = join(dir, 'out-cli');
  await rm(out, { recursive: true, force: true });
  await settle();
  const args = [
    BIN,
    'merge',
    ...['--base', base],
    ...tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
    ...['--engine', 'cpu', '--out', out],
  ];
  const { ms, stderr } = await wallMs(args);
  if (stderr) process.stderr.write(stderr);
  return { seconds: ms / 1000, out };
}

/**
 * Reading every input whole from page cache (they were just written or read), then writing files
 * of the given sizes (the merge's outputs) in 1 MiB writes: the least any merge of this set does.
 * `readFile` as the floor reads (a fresh buffer per input), or with `reuse` into one buffer
 * used for every input: no fresh pages to fault in, the tighter floor docs/benchmarks.md also gives.
 */
export async function ioFloorSeconds(
  inputs: readonly string[],
  outputSizes: readonly number[],
  dir: string,
  { reuse = false } = {},
): Promise<number> {
  for (const p of inputs) await readFile(p); // warm: the floor is page cache, not disk
  const out = join(dir, 'out-floor');
  await mkdir(out, { recursive: true });
  const block = new Uint8Array(1 << 20).fill(1);
  const sizes = await Promise.all(inputs.map(async (p) => (await stat(p)).size));
  const into = reuse ? new Uint8Array(Math.max(...sizes)).fill(1) : undefined;
  await settle();
  const started = performance.now();
  for (const [k, p] of inputs.entries()) {
    if (!into) {
      await readFile(p);
      continue;
    }
    const f = await open(p);
    const size = sizes[k] as number;
    for (let at = 0; at < size;) at += (await f.read(into, at, size - at, at)).bytesRead;
    await f.close();
  }
  for (const [i, size] of outputSizes.entries()) {
    const f = await open(join(out, `${i}.bin`), 'w');
    for (let at = 0; at < size; at += block.length)
      await f.write(block, 0, Math.min(block.length, size - at));
    await f.close();
  }
  const seconds = (performance.now() - started) / 1000;
  await rm(out, { recursive: true, force: true });
  return seconds;
}
