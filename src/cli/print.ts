// What the CLI prints: sizes, the merge summary (src/flow/summary.ts) as text or as --json, and a
// checkpoint's listing. Every line the user reads is written here.
import { dtypeBytes } from '../formats/dtype';
import type { Checkpoint } from '../formats/tensor';
import type { AnyMethodSpec } from '../merge/methods';
import { describeMethod } from '../merge/methods';
import type { ModelSet } from '../merge/model-set';
import type { MergeSummaryOf } from '../flow/summary';

export const out = (text: string) => process.stdout.write(text);
export const say = (line: string) => process.stderr.write(`merge-studio: ${line}\n`);

/**
 * 1234567 → "1,234,567", as toLocaleString('en') writes it — without loading the ICU locale data,
 * which cost a CLI merge ~25 ms at its end (a profile; docs/benchmarks.md).
 */
export function grouped(count: number): string {
  const digits = String(Math.abs(Math.round(count))).replace(/\B(?=(\d{3})+$)/g, ',');
  return count < 0 ? `-${digits}` : digits;
}

export function fmtBytes(n: number): string {
  return n >= 2 ** 30
    ? `${(n / 2 ** 30).toFixed(2)} GiB`
    : n >= 2 ** 20
      ? `${(n / 2 ** 20).toFixed(1)} MiB`
      : `${(n / 1024).toFixed(1)} KiB`;
}

/** What the merge command adds to the summary: its files, the bundle, remote reads, time, memory. */
export interface MergeRun {
  readonly set: ModelSet;
  readonly written: readonly { readonly task: string; readonly file: string }[];
  readonly bundle?: { readonly file: string; readonly bytes: number; readonly taskModelsBytes: number };
  readonly remote?: { readonly files: number; readonly headerBytes: number; readonly fetchedBytes: number };
  readonly peakRssBytes: number;
}

/** merge --json: the summary in the CLI's JSON shape (docs/cli.md). */
export function mergeJson(s: MergeSummaryOf<AnyMethodSpec>, run: MergeRun): string {
  const emr = s.spec.method === 'emr';
  const { report } = run.set;
  const nonFinite = s.nonFinite && (({ warning: _, ...counts }) => counts)(s.nonFinite);
  const json = {
    method: s.spec,
    engine: s.engine,
    tasks: s.tasks.map((t, i) => ({
      name: t.name,
      ...(emr
        ? {
            lambda: t.lambda,
            lambdaDefaulted: t.lambdaDefaulted,
            maskDensity: t.density,
            lambdaNumerator: t.numerator,
            lambdaDenominator: t.denominator,
          }
        : t.perTask
          ? {
              ...(t.perTask.lambda !== undefined ? { lambda: t.perTask.lambda } : {}),
              density: t.perTask.density,
            }
          : {}),
      output: run.written[i]?.file,
    })),
    ...(s.ties ? { ties: s.ties } : {}),
    // NaN/±∞ read per model and per shared tensor, only when there were any.
    ...(nonFinite ? { nonFinite } : {}),
    alignment: {
      shared: report.shared.length,
      sharedParameters: report.sharedParameters,
      leftOut: report.leftOut,
      baseOnly: report.baseOnly,
    },
    bundle: run.bundle,
    ...(s.values ? { values: s.values.location } : {}),
    bytesRead: s.bytesRead,
    ...(run.remote ? { remote: run.remote } : {}),
    seconds: s.seconds,
    peakRssBytes: run.peakRssBytes,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** merge without --json: one line for the merge, one per task, the warning, the bundle, the reads. */
export function mergeText(s: MergeSummaryOf<AnyMethodSpec>, run: MergeRun): string {
  const { report } = run.set;
  const emr = s.spec.method === 'emr';
  const lines = [
    `${describeMethod(s.spec)} on ${s.engine}: ${s.tasks.length} tasks, ${report.shared.length} shared tensors (${grouped(report.sharedParameters)} parameters), ${report.leftOut.length} passed through`,
  ];
  for (const [i, w] of run.written.entries()) {
    const t = s.tasks[i];
    const lam = emr
      ? `  λ = ${t?.lambda.toFixed(4)}  mask density ${((t?.density ?? 0) * 100).toFixed(1)} %`
      : t?.perTask
        ? s.spec.method === 'tsv_c'
          ? // TSV-C's density is what the task stores (src/merge/pertask/result.ts), not what changes.
            `  stores ${(t.perTask.density * 100).toFixed(1)} % as many values as the shared weights (low-rank factors, own τ elsewhere)`
          : `${t.perTask.lambda !== undefined ? `  λ_t = ${t.perTask.lambda}` : ''}  changes ${(t.perTask.density * 100).toFixed(1)} % of the shared weights`
        : '';
    lines.push(`  ${w.task.padEnd(16)} → ${w.file}${lam}`);
    if (t?.fromPytorch)
      lines.push(
        `  ${''.padEnd(16)}   (a PyTorch checkpoint: written as safetensors, Hugging Face's default)`,
      );
  }
  if (s.nonFinite) lines.push(`  warning: ${s.nonFinite.warning}`);
  if (run.bundle)
    lines.push(
      `  bundle → ${run.bundle.file}: ${fmtBytes(run.bundle.bytes)} for ${s.tasks.length} tasks whose models take ${fmtBytes(run.bundle.taskModelsBytes)}`,
    );
  lines.push(
    `read ${fmtBytes(s.bytesRead)} in ${s.seconds.toFixed(2)} s, peak memory ${fmtBytes(run.peakRssBytes)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** inspect: a checkpoint's format, size and tensors. */
export function checkpointListing(path: string, checkpoint: Checkpoint): string {
  const tensors = [...checkpoint.tensors.values()];
  const params = tensors.reduce((a, t) => a + t.byteLength / dtypeBytes(t.dtype), 0);
  let text = `${path}: ${checkpoint.format}, ${tensors.length} tensors, ${grouped(params)} parameters, ${fmtBytes(tensors.reduce((a, t) => a + t.byteLength, 0))}\n`;
  for (const t of tensors)
    text += `  ${t.name.padEnd(40)} ${t.dtype.padEnd(5)} [${t.shape.join(', ')}]  ${t.byteLength} bytes\n`;
  return text;
}

/** inspect with a base and tasks: what would be merged, left out, or only in the base. */
export function alignmentListing(basePath: string, set: ModelSet): string {
  let text = `\nwith ${basePath} as the base: ${set.report.shared.length} tensors merged (${grouped(set.report.sharedParameters)} parameters)\n`;
  for (const l of set.report.leftOut) text += `  left out ${l.name}: ${l.reason} — ${l.detail}\n`;
  for (const n of set.report.baseOnly) text += `  base only ${n}: in the base, in no task\n`;
  return text;
}
