// npm run bench:scale -- --set vit-b-30|llm [--geometry llm-1b] [--dir DIR] [--keep]
//     [--only cli|studio] [--budget MB] [--trace] [--port 4651] [--dist /tmp/h5-dist]
// Issue #8's scale check: a big set merged from files in bounded memory, measured from outside.
//   vit-b-30  base + 30 ViT-B-like tasks, f32 (~10.9 GB of files)
//   llm       base + 3 Llama-like fine-tunes in bf16 shards (default geometry llm-1b, ~0.95 B
//             parameters; LLM_GEOMETRIES in scale-sets.ts), τ_uni and masks spilled to a file
// 1. The CLI (bin/merge-studio.js merge, EMR, CPU engine) in a child process writes every task's
//    model, as a user would (then they are deleted); its peak RSS is the larger of VmHWM polled
//    from /proc and the child's own report (--json's peakRssBytes).
// 2. The built studio (vite build + preview) in headless Chromium (the tests' Chromium and flags):
//    every file handed to its file input (Playwright passes paths to a local browser, so nothing
//    is copied through the bench), the CPU engine picked, merged; the renderers' RSS is polled
//    from /proc (the page's renderer holds the studio's worker) beside the sum over all of
//    Chromium's processes; the page's λ must equal the CLI's.
// Both are compared with the runtime (the same tool merging a tiny set), the budget, τ_uni + the
// packed masks, and N models' bytes — the table's bound is runtime + budget (+ τ_uni + masks when
// they were kept in memory; a spill keeps them in a file) — then the 7 B size's bytes are printed.
// The runtime is the CLI's peak on a tiny set, and for the studio the renderer's RSS with the files
// listed, before the merge.
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, totalmem, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify, parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { preview } from 'vite';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.ts';
import { writeSyntheticSet } from '../src/merge/testing/synthetic';
import type { StudioTestApi } from '../app/test-api';
import { LLM_GEOMETRIES, llmParameters, scaleSet, type LlmGeometry, type ScaleSet } from './scale-sets';
import { sampleChromium, vmHwm } from './scale-rss';

const MiB = 2 ** 20;

const BIN = new URL('../bin/merge-studio.js', import.meta.url).pathname;
const REPO = new URL('..', import.meta.url).pathname;
const exec = promisify(execFile);

const { values: flags } = parseArgs({
  options: {
    set: { type: 'string', default: 'vit-b-30' },
    geometry: { type: 'string', default: 'llm-1b' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    only: { type: 'string' },
    port: { type: 'string', default: '4651' },
    dist: { type: 'string', default: '/tmp/h5-dist' },
    budget: { type: 'string', default: '256' },
    /** Log every rise of the renderer's peak with the merge's progress. */
    trace: { type: 'boolean', default: false },
  },
});
// What the scheduler may hold in flight, for both tools (256 MiB: src/merge/scheduler.ts's default)
const BUDGET = Number(flags.budget) * MiB;
if (!(BUDGET > 0)) throw new Error(`--budget MB wants a positive number, not ${flags.budget}`);
const setName = flags.set;
if (setName !== 'vit-b-30' && setName !== 'llm') throw new Error(`--set vit-b-30|llm, not ${setName}`);
const geometry = flags.geometry as LlmGeometry;
if (!Object.hasOwn(LLM_GEOMETRIES, geometry))
  throw new Error(`--geometry ${Object.keys(LLM_GEOMETRIES).join('|')}, not ${geometry}`);
const dir = flags.dir ?? join(tmpdir(), `merge-studio-scale-${setName}`);
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;

interface Row {
  readonly tool: 'CLI' | 'studio';
  readonly peak: number;
  readonly runtime: number;
  readonly seconds: number;
  readonly values: string;
  readonly extra: string;
}

interface CliRun {
  readonly peak: number;
  readonly seconds: number;
  readonly summary: {
    tasks: { name: string; lambda: number }[];
    alignment: { sharedParameters: number };
    values?: string;
    peakRssBytes: number;
  };
}

/** `merge-studio merge` in a child process, its peak RSS polled from outside and self-reported. */
async function cliMerge(
  set: { base: string; tasks: readonly { name: string; path: string }[] },
  out: string,
  ...extra: string[]
): Promise<CliRun> {
  const args = [
    BIN,
    'merge',
    '--base',
    set.base,
    ...set.tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
  ];
  args.push(
    '--out',
    out,
    '--engine',
    'cpu',
    '--budget',
    String(BUDGET / MiB),
    '--no-bundle',
    '--json',
    ...extra,
  );
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  void exited.then(() => (running = false));
  let polled = 0;
  let lastLog = performance.now();
  while (running) {
    polled = Math.max(polled, await vmHwm(child.pid as number));
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(`  CLI: ${((lastLog - started) / 1000).toFixed(0)} s, peak RSS so far ${mib(polled)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const code = await exited;
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`merge-studio exited with ${code}: ${stderr}`);
  const summary = JSON.parse(stdout) as CliRun['summary'];
  return { peak: Math.max(polled, summary.peakRssBytes), seconds, summary };
}

interface StudioRun {
  readonly rendererPeak: number;
  /** The renderer's peak when the merge's result arrived, before Inspect drew anything. */
  readonly mergePeak: number;
  readonly rendererIdle: number;
  readonly totalPeak: number;
  readonly seconds: number;
  readonly lambdas: Record<string, number>;
  readonly values: string;
}

async function waitForMerge(page: Page, started: number, marker: string, peaks: { r: number; t: number }) {
  let lastLog = performance.now();
  for (;;) {
    const state = await page.evaluate(() => {
      const m = (window.__studio as StudioTestApi).merge();
      return {
        done: m.result !== undefined && !m.running,
        notice: m.notice?.message,
        progress: m.progress ? JSON.stringify(m.progress).slice(0, 160) : '',
      };
    });
    const s = await sampleChromium(marker);
    if (flags.trace && s.rendererHwm > peaks.r + 16 * MiB)
      log(`  renderer peak ${mib(s.rendererHwm)} (now ${mib(s.rendererRss)}) at ${state.progress}`);
    peaks.r = Math.max(peaks.r, s.rendererHwm, s.rendererRss);
    peaks.t = Math.max(peaks.t, s.totalRss);
    if (state.notice) throw new Error(`the studio's merge did not finish: ${state.notice}`);
    if (state.done) return;
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(
        `  studio: ${((lastLog - started) / 1000).toFixed(0)} s, renderer ${mib(s.rendererRss)} (peak ${mib(peaks.r)}), ` +
          `all ${mib(s.totalRss)}; ${state.progress}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Builds the studio once per run, serves it, and merges `files` in headless Chromium. */
async function studioMerge(
  files: readonly string[],
  models: number,
  profile: string,
  spillOver?: number,
): Promise<StudioRun> {
  log(`building the studio into ${flags.dist}…`);
  await exec('npx', ['vite', 'build', '--logLevel', 'warn', '--emptyOutDir', '--outDir', flags.dist], {
    cwd: REPO,
  });
  const server = await preview({
    root: REPO,
    logLevel: 'warn',
    build: { outDir: flags.dist },
    preview: { host: '127.0.0.1', port: Number(flags.port), strictPort: true },
  });
  await rm(profile, { recursive: true, force: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    await page.goto(`http://127.0.0.1:${flags.port}/`);
    await page.waitForFunction(() => window.__studio !== undefined);
    await page.evaluate((b) => (window.__studio as StudioTestApi).setMergeBudget(b), BUDGET);
    if (spillOver !== undefined)
      await page.evaluate((b) => (window.__studio as StudioTestApi).setSpillOver(b), spillOver);
    const peaks = { r: 0, t: 0 };
    const loadStarted = performance.now();
    await page.getByLabel('Add model files').setInputFiles([...files]);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="checkpoint"]').length === n,
      models,
      {
        timeout: 600_000,
      },
    );
    const errors = await page
      .locator('[data-testid="file-error"], [data-testid="file-refused"]')
      .allTextContents();
    if (errors.length) throw new Error(`the studio refused files: ${errors.join('; ')}`);
    log(
      `  studio: ${models} checkpoints listed in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
    );
    await page.getByTestId('engine-select').selectOption('cpu');
    const idle = await sampleChromium(profile);
    const started = performance.now();
    await page.locator('#merge').getByRole('button', { name: 'Merge', exact: true }).click();
    await waitForMerge(page, started, profile, peaks);
    const seconds = (performance.now() - started) / 1000;
    const mergePeak = peaks.r;
    // Then the Inspect panel draws from τ_uni and the masks (mask viewer, histogram): measured apart.
    await page.getByTestId('mask-viewer').locator('canvas').first().waitFor({ timeout: 300_000 });
    await page.getByTestId('histogram-chart').locator('canvas').waitFor({ timeout: 300_000 });
    await new Promise((r) => setTimeout(r, 3000));
    const after = await sampleChromium(profile);
    peaks.r = Math.max(peaks.r, after.rendererHwm, after.rendererRss);
    peaks.t = Math.max(peaks.t, after.totalRss);
    const result = await page.evaluate(() => {
      const r = (window.__studio as StudioTestApi).merge().result;
      return {
        tasks: r?.tasks.map((t) => [t.name, t.lambda] as const) ?? [],
        values: r?.values?.location ?? '?',
      };
    });
    return {
      rendererPeak: peaks.r,
      mergePeak,
      rendererIdle: idle.rendererRss,
      totalPeak: peaks.t,
      seconds,
      lambdas: Object.fromEntries(result.tasks),
      values: result.values,
    };
  } finally {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true }); // OPFS (the spill file) lives in the profile
  }
}

log(`machine: ${cpus().length} cores, ${gib(totalmem())} RAM; set ${setName} in ${dir}`);
await mkdir(dir, { recursive: true });
const set: ScaleSet = await scaleSet(setName, join(dir, 'set'), flags.keep, geometry, log);
const n = set.tasks.length;
const params = set.parameters;
const tauUni = 4 * params;
const masks = Math.ceil((n * params) / 8);
// The task models' files as they are on disk (headers included; a ViT task's head is smaller than the base's)
const ownFiles = (path: string) =>
  set.files.filter((f) => f === path || (path.endsWith('.index.json') && dirname(f) === dirname(path)));
let taskBytes = 0;
for (const t of set.tasks) for (const f of ownFiles(t.path)) taskBytes += (await stat(f)).size;
const spill = setName === 'llm';
log(
  `${set.name}: ${n} tasks × ${params.toLocaleString('en')} merged parameters, ${gib(set.bytesPerModel)} per model; ` +
    `τ_uni ${gib(tauUni)}, masks ${gib(masks)}`,
);
const rows: Row[] = [];
let cliLambdas: Record<string, number> | undefined;

if (flags.only !== 'studio') {
  // The runtime: the same command on a tiny 2-task set (Node, transpiled modules, worker threads).
  const tinyDir = await mkdtemp(join(tmpdir(), 'scale-tiny-'));
  const tiny = await writeSyntheticSet({ dir: join(tinyDir, 'set'), numTasks: 2, width: 160, depth: 1 });
  const runtime = (await cliMerge(tiny, join(tinyDir, 'out'))).peak;
  await rm(tinyDir, { recursive: true, force: true });
  log(`CLI runtime (tiny set): ${mib(runtime)}; merging ${set.name}…`);
  const out = join(dir, 'out-cli');
  await rm(out, { recursive: true, force: true });
  const run = await cliMerge(set, out, ...(spill ? ['--spill-over', '0'] : []));
  await rm(out, { recursive: true, force: true }); // N task models: as big as the inputs
  cliLambdas = Object.fromEntries(run.summary.tasks.map((t) => [t.name, t.lambda]));
  rows.push({
    tool: 'CLI',
    peak: run.peak,
    runtime,
    seconds: run.seconds,
    values: run.summary.values ?? '?',
    extra: `self-reported ${mib(run.summary.peakRssBytes)}; writes ${n} task models`,
  });
  log(`CLI: ${run.seconds.toFixed(0)} s, peak RSS ${mib(run.peak)}, values ${run.summary.values}`);
}

if (flags.only !== 'cli') {
  const run = await studioMerge(set.files, n + 1, join(dir, 'chromium-profile'));
  rows.push({
    tool: 'studio',
    peak: run.rendererPeak,
    runtime: run.rendererIdle,
    seconds: run.seconds,
    values: run.values,
    extra: `renderer ${mib(run.mergePeak)} when the result arrived, before Inspect drew; all Chromium processes ${mib(run.totalPeak)}`,
  });
  log(
    `studio: ${run.seconds.toFixed(0)} s, renderer peak ${mib(run.rendererPeak)}, all ${mib(run.totalPeak)}`,
  );
  if (cliLambdas) {
    const differ = Object.entries(cliLambdas).filter(([k, v]) => run.lambdas[k] !== v);
    if (differ.length) throw new Error(`λ differ between the CLI and the studio: ${JSON.stringify(differ)}`);
    const some = Object.entries(run.lambdas).slice(0, 3);
    log(`λ: all ${n} equal the CLI's bit for bit, e.g. ${some.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
}

if (!flags.keep) await rm(dir, { recursive: true, force: true });

console.log(
  `\n${set.name}: base + ${n} tasks, ${params.toLocaleString('en')} merged parameters each (${set.dtype}), ` +
    `budget ${mib(BUDGET)}; machine: ${cpus().length} cores, ${gib(totalmem())} RAM\n`,
);
console.log(
  '| set | tool | task bytes | τ_uni + masks | budget | runtime | bound | peak RSS | seconds | values | peak / N models | notes |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |');
for (const r of rows) {
  const peakName = r.tool === 'CLI' ? 'process' : 'renderer';
  console.log(
    `| ${set.name} | ${r.tool} | ${gib(taskBytes)} | ${gib(tauUni + masks)} | ${mib(BUDGET)} | ${mib(r.runtime)} | ` +
      `${mib(r.runtime + BUDGET + (r.values === 'memory' ? tauUni + masks : 0))} | ${mib(r.peak)} (${peakName}) | ${r.seconds.toFixed(0)} | ${r.values} | ${(r.peak / taskBytes).toFixed(3)} | ${r.extra} |`,
  );
}
if (spill) {
  const p7 = llmParameters('llm-7b');
  console.log(
    `\nllm-7b (${p7.toLocaleString('en')} parameters, bf16), 3 fine-tunes: inputs ${gib(4 * 2 * p7)} ` +
      `(${gib(2 * p7)} per model), τ_uni ${gib(4 * p7)} + masks ${gib((3 * p7) / 8)} = spill ${gib(4 * p7 + (3 * p7) / 8)}, ` +
      `outputs ${gib(3 * 2 * p7)} (3 task models); ${gib(4 * 2 * p7 + 4 * p7 + (3 * p7) / 8 + 3 * 2 * p7)} of disk in all`,
  );
}
if (existsSync(dir)) log(`kept ${dir}`);
