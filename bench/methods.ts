// npm run bench's per-method table: every merge method through the built command line (dist-cli/,
// spawned as a user runs it, start-up included), each reading the set, merging and writing every
// task's model (`--no-bundle`, as the rows above), beside EMR's run on the same set. Peak RSS is the
// child's own report (`--json`'s peakRssBytes: the process's maxRSS, its worker threads included).
// The sparsifying mergekit methods run at a density that drops something (at mergekit's default,
// 1, they skip their sparsification and would time a different pass).
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const BIN = new URL('../bin/merge-studio.js', import.meta.url).pathname;

export interface MethodRun {
  /** The method's name and any parameters, as the row shows them. */
  readonly label: string;
  /** Wall time from spawn to exit. */
  readonly seconds: number;
  /** The merge's own seconds (--json's `seconds`: from the set opened to the last model written). */
  readonly mergeSeconds: number;
  readonly peakRssBytes: number;
}

/** The methods of the main table: `--method` and its flags. */
export const METHODS: readonly (readonly string[])[] = [
  ['emr'],
  ['avg'],
  ['ta'],
  ['ties'], // the TIES paper's (k = 0.2, λ = 1)
  ['task_arithmetic'],
  ['linear'],
  ['ties', '--param', 'density=0.5'], // mergekit's
  ['dare_ties', '--param', 'density=0.5'],
  ['dare_linear', '--param', 'density=0.5'],
  ['breadcrumbs', '--param', 'density=0.9'],
  ['breadcrumbs_ties', '--param', 'density=0.9'],
  ['della', '--param', 'density=0.5'],
  ['della_linear', '--param', 'density=0.5'],
  ['model_stock'],
  ['multislerp'],
  ['tall_mask'],
  ['consensus_ta'],
  ['consensus_ties'],
  ['t_switch'],
];

/**
 * The methods with an SVD per 2-D weight (N + 2 of them for tsv_m, N + 3 for iso_cts, N for the
 * per-task tsv_c), so run on a smaller set.
 */
export const SPECTRAL_METHODS: readonly (readonly string[])[] = [
  ['emr'],
  ['tsv_m'],
  ['iso_c'],
  ['iso_cts'],
  ['tsv_c'],
];

/** `merge-studio merge --method …` on the set, spawned; the outputs are deleted after. */
export async function methodRun(
  dir: string,
  base: string,
  tasks: readonly { name: string; path: string }[],
  method: readonly string[],
): Promise<MethodRun> {
  const out = join(dir, 'out-method');
  await rm(out, { recursive: true, force: true });
  const [name, ...flags] = method;
  const args = [
    BIN,
    'merge',
    ...['--base', base],
    ...tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
    ...['--method', name as string, ...flags],
    ...['--engine', 'cpu', '--no-bundle', '--json', '--out', out],
  ];
  const started = performance.now();
  const { stdout, stderr } = await exec(process.execPath, args, { maxBuffer: 1 << 26 });
  const seconds = (performance.now() - started) / 1000;
  // bin/ falls back to the sources (and says so) when dist-cli/ is stale: not the built CLI.
  if (stderr.includes('running the sources')) throw new Error(`not the built CLI: ${stderr}`);
  await rm(out, { recursive: true, force: true });
  const summary = JSON.parse(stdout) as { seconds: number; peakRssBytes: number };
  const label = [name, ...flags.filter((f) => f !== '--param')].join(' ');
  return { label, seconds, mergeSeconds: summary.seconds, peakRssBytes: summary.peakRssBytes };
}

/** The rows as a Markdown table, each with its ratio to the first row's (EMR's) time. */
export function methodTable(runs: readonly MethodRun[]): string {
  const emr = runs[0] as MethodRun;
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  return [
    '| method | seconds (spawned) | merge seconds | × EMR | peak RSS MiB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...runs.map(
      (r) =>
        `| ${r.label} | ${r.seconds.toFixed(2)} | ${r.mergeSeconds.toFixed(2)} | ${(r.seconds / emr.seconds).toFixed(2)} | ${mb(r.peakRssBytes)} |`,
    ),
  ].join('\n');
}
