// Plan: the CLI merges in bounded memory, measured from outside. A synthetic set of 8 tasks ×
// 64 MB (f32, ViT-like, 16.3 M parameters each; src/merge/testing/synthetic.ts) is merged with EMR
// by the real command line (bin/merge-studio.js) in a child process, bundle and all 8 task models
// written. Its peak RSS — VmHWM read from /proc/<pid>/status while it runs (Linux), and the peak the
// child reports itself (--json's peakRssBytes, from process.resourceUsage().maxRSS), whichever is
// larger — must stay under
//     runtime + budget + τ_uni + packed masks + slack
// where
//   runtime = the peak RSS of the same command merging a tiny 2-task set whose largest tensor is
//             big enough to be split over the CPU engine's workers, measured here: Node, the CLI's
//             modules (dist-cli/'s build; tsx's transpiled sources where that build is stale), and one worker thread per core, each with its own V8 heap. It
//             depends on the machine, so it is measured rather than guessed (~195 MiB on 2 cores);
//   budget  = --budget 64 MiB: what the scheduler may hold in flight (two chunks of base + 8 tasks);
//   τ_uni   = 4 bytes per merged parameter (62 MiB), kept whole until the models are written;
//   masks   = 8 tasks × 1 bit per merged parameter (15.5 MiB);
//   slack   = 160 MiB: V8 frees the ArrayBuffers of finished chunks only at its next collection,
//             in the main thread and in each worker, and the export holds a reconstruction chunk
//             and 1 MiB write buffers (measured here: 50–110 MiB over the sum above).
// That bound is ~300 MiB above the runtime, while the 8 task models alone are 509 MiB (572 MiB
// with the base); the test also checks that the merge's own memory (peak − runtime) stays under
// 3/4 of the task models, which a merge holding them could not.
import { spawn } from 'node:child_process';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeLlmLikeSet, writeSyntheticSet, type SyntheticSet } from '../merge/testing/synthetic';

const MiB = 2 ** 20;
const BUDGET_MIB = 64;
const SLACK = 160 * MiB;
const BIN = new URL('../../bin/merge-studio.js', import.meta.url).pathname;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-memory-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** VmHWM of a running process in bytes, or 0 where /proc is not there (or the process ended). */
async function vmHwm(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

interface Run {
  readonly peak: number;
  readonly reported: number;
  readonly polled: number;
  readonly summary: { alignment: { sharedParameters: number }; tasks: unknown[]; values?: string };
}

/** Runs `merge-studio merge` on a set in a child process and measures its peak RSS. */
async function mergeInChild(set: SyntheticSet, out: string, ...extra: string[]): Promise<Run> {
  const args = [
    BIN,
    'merge',
    '--base',
    set.base,
    ...set.tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
    '--out',
    out,
    '--engine',
    'cpu',
    '--budget',
    String(BUDGET_MIB),
    '--json',
    ...extra,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let polled = 0;
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let running = true;
  void exited.then(() => (running = false));
  // VmHWM is a high-water mark: the last reading before exit is (about) the peak.
  while (running) {
    polled = Math.max(polled, await vmHwm(child.pid as number));
    await new Promise((r) => setTimeout(r, 20));
  }
  const code = await exited;
  if (code !== 0) throw new Error(`merge-studio exited with ${code}: ${stderr}`);
  const summary = JSON.parse(stdout) as Run['summary'] & { peakRssBytes: number };
  return {
    peak: Math.max(polled, summary.peakRssBytes),
    reported: summary.peakRssBytes,
    polled,
    summary,
  };
}

it('merges 8 tasks × 64 MB in budget + τ_uni + packed masks, not N models', async () => {
  // width 160: mlp.fc1 has 102 400 elements, over the engine's 65 536 for splitting over workers
  const tiny = await writeSyntheticSet({ dir: join(dir, 'tiny'), numTasks: 2, width: 160, depth: 1 });
  const big = await writeSyntheticSet({ dir: join(dir, 'big'), numTasks: 8, width: 384, depth: 9 });
  expect(big.bytesPerModel).toBeGreaterThan(63 * MiB);

  const runtime = (await mergeInChild(tiny, join(dir, 'out-tiny'))).peak;
  const run = await mergeInChild(big, join(dir, 'out-big'));
  const params = run.summary.alignment.sharedParameters;
  const tauUni = 4 * params;
  const masks = (8 * params) / 8;
  const bound = runtime + BUDGET_MIB * MiB + tauUni + masks + SLACK;
  const models = 8 * big.bytesPerModel;
  const figures = {
    runtimeMiB: runtime / MiB,
    peakMiB: run.peak / MiB,
    reportedMiB: run.reported / MiB,
    vmHwmMiB: run.polled / MiB,
    boundMiB: bound / MiB,
    mergeOwnMiB: (run.peak - runtime) / MiB,
    taskModelsMiB: models / MiB,
  };
  console.log(JSON.stringify(figures, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v)));
  expect(run.summary.tasks).toHaveLength(8);
  expect(run.peak).toBeLessThan(bound);
  expect(run.peak - runtime).toBeLessThan((models * 3) / 4);
}, 120_000);

it('merges a scaled-down LLM set (bf16 shards) with τ_uni and the masks spilled: budget, not τ_uni', async () => {
  // Llama-like geometry at ~110 M parameters: τ_uni alone (f32) is 2× a bf16 model.
  const llm = await writeLlmLikeSet({
    dir: join(dir, 'llm'),
    numTasks: 3,
    hidden: 768,
    layers: 12,
    intermediate: 2048,
    vocab: 16000,
    shardBytes: 64 * MiB,
  });
  const tiny = await writeSyntheticSet({ dir: join(dir, 'tiny-llm'), numTasks: 2, width: 160, depth: 1 });
  const runtime = (await mergeInChild(tiny, join(dir, 'out-tiny-llm'))).peak;
  const out = join(dir, 'out-llm');
  const run = await mergeInChild(llm, out, '--spill-over', '0', '--no-bundle');
  const params = run.summary.alignment.sharedParameters;
  const tauUni = 4 * params;
  const masks = (3 * params) / 8;
  // The budget counts twice here: the merge's chunks (freed only at V8's next collection) and, while
  // the task models are written, the base's bytes kept for the next task (up to the budget).
  const bound = runtime + 2 * BUDGET_MIB * MiB + SLACK;
  console.log(
    JSON.stringify({
      runtimeMiB: Math.round(runtime / MiB),
      peakMiB: Math.round(run.peak / MiB),
      boundMiB: Math.round(bound / MiB),
      tauUniAndMasksMiB: Math.round((tauUni + masks) / MiB),
      modelMiB: Math.round(llm.bytesPerModel / MiB),
    }),
  );
  expect(run.summary.values).toBe('spill');
  expect(tauUni + masks).toBeGreaterThan(SLACK + 2 * BUDGET_MIB * MiB); // the bound below excludes them
  expect(run.peak).toBeLessThan(bound);
  expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]); // scratch file gone
}, 240_000);
