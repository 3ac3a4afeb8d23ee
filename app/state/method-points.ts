// Per row of the evaluation table, what the accuracy-vs-storage chart plots (issue #20): its
// normalized accuracy (src/inference/table.ts) and the bytes per task of the method's artefact, as
// docs/results.md counts them — the EMR bundle or a per-task artefact over the N tasks; a one-model
// method's merged model (as large as one task's) over the N tasks; Individual, each task's own
// model. A routed row (no task id) stores what its method stores.
import { METHOD_TABLE, methodNameOf } from '../../src/merge/method-params';
import { describeMethod } from '../../src/merge/methods';
import { normalized, ROUTER_ROW } from '../../src/inference/table';
import type { EvalReport } from '../../src/inference/eval-table';
import type { ParetoPoint, PointKind } from '../../src/inference/pareto';
import type { MergeSummary } from '../worker/protocol';

export interface MethodPoint {
  readonly label: string;
  /** Normalized accuracy, in % of the individual models'. */
  readonly normalizedPercent: number;
  readonly bytesPerTask: number;
  /** A model per task (EMR, TALL masks, T-Switch; Individual) or one model for every task. */
  readonly perTask: boolean;
}

/** Bytes per task of a result's method, from its summary. */
export function bytesPerTask(summary: MergeSummary): number {
  const n = Math.max(1, summary.tasks.length);
  const oneModel = summary.storage.taskModelsBytes / n;
  return summary.storage.bundleBytes > 0 ? summary.storage.bundleBytes / n : oneModel / n;
}

/**
 * The chart's points: one per method row of the report, skipping the router's line. A row is sized
 * by the kept result its label names (a routed row by its method's: its label's start); a paper
 * method merged on demand (not kept) as a one-model method over the shown result's tasks.
 */
export function methodPoints(
  report: EvalReport,
  shown: MergeSummary,
  kept: readonly MergeSummary[],
): MethodPoint[] {
  const individual = report.rows.find((r) => r.method === 'Individual');
  if (!individual) return [];
  const n = Math.max(1, shown.tasks.length);
  const labelled = kept.map((summary) => ({ label: describeMethod(summary.spec), summary }));
  const points: MethodPoint[] = [];
  for (const row of report.rows) {
    if (row.method === ROUTER_ROW) continue;
    const routed = row.method.endsWith(ROUTED);
    const base = routed ? row.method.slice(0, -ROUTED.length) : row.method;
    const summary = labelled.find((k) => (routed ? k.label.startsWith(base) : k.label === base))?.summary;
    const isIndividual = row.method === 'Individual';
    points.push({
      label: row.method,
      normalizedPercent: 100 * normalized(row, individual),
      bytesPerTask: isIndividual
        ? shown.storage.taskModelsBytes / n
        : summary
          ? bytesPerTask(summary)
          : shown.storage.taskModelsBytes / n / n,
      perTask:
        isIndividual || (summary ? METHOD_TABLE[methodNameOf(summary.spec)].output === 'per-task' : routed),
    });
  }
  return points;
}

const ROUTED = ', routed (no task id)';

/**
 * The chart's props (app/views/evaluate/ParetoChart.tsx) from the points: a one-model method is
 * handed over as one model for every task (bytes null) with the shown result's model size, so the
 * chart places it at that size ÷ N and marks it as amortised, not as a measured artefact.
 */
export function paretoProps(
  points: readonly MethodPoint[],
  shown: MergeSummary,
): { points: ParetoPoint[]; tasks: number; modelBytes: number } {
  const tasks = Math.max(1, shown.tasks.length);
  return {
    tasks,
    modelBytes: shown.storage.taskModelsBytes / tasks,
    points: points.map((p) => {
      const kind: PointKind =
        p.label === 'Individual'
          ? 'individual'
          : p.label.endsWith(ROUTED)
            ? 'routed'
            : p.perTask
              ? 'per-task'
              : 'single-model';
      return {
        label: p.label,
        accuracy: p.normalizedPercent,
        bytesPerTask: kind === 'single-model' ? null : p.bytesPerTask,
        kind,
      };
    }),
  };
}
