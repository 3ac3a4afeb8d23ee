// The accuracy-vs-storage map (issue #20): which methods keep the most accuracy for the fewest
// bytes per task. This file holds the numbers — the Pareto frontier and the chart's axes — with no
// pixels; pareto-layout.ts places them on a canvas and pareto-svg.ts draws them, for the studio's
// step 5 and for docs/results.md alike.
import { normalized, type AccuracyTable } from './table';

/** What a method keeps per task, which decides how its point is drawn. */
export type PointKind = 'individual' | 'per-task' | 'routed' | 'single-model';

export interface ParetoPoint {
  /** The method's row label, as in the evaluation table. */
  readonly label: string;
  /** Normalized accuracy in % (merged ⁄ individual, averaged over tasks); NaN when not measured. */
  readonly accuracy: number | null | undefined;
  /**
   * Bytes stored per task. null: a single-model method, which stores one model for all tasks — it
   * is placed at the model's size ÷ the number of tasks (and flagged), the same amortisation the
   * per-task methods' shared part gets.
   */
  readonly bytesPerTask: number | null;
  readonly kind: PointKind;
}

export interface PlacedPoint extends ParetoPoint {
  readonly accuracy: number;
  /** Where the point sits on the bytes axis: its own bytes, or model size ÷ tasks. */
  readonly bytes: number;
  /** True when bytes is the amortised single model, not a measured artefact. */
  readonly amortised: boolean;
  /** No other point has at most its bytes and at least its accuracy, one of them strictly. */
  readonly onFrontier: boolean;
}

export interface ExcludedPoint {
  readonly point: ParetoPoint;
  readonly reason: string;
}

export interface ParetoMap {
  /** Every drawable point, in input order. */
  readonly points: readonly PlacedPoint[];
  /**
   * The frontier's corners, fewest bytes first (accuracy rising): each distinct (bytes, accuracy)
   * once, with every label at it — exact duplicates are one corner.
   */
  readonly frontier: readonly { bytes: number; accuracy: number; labels: readonly string[] }[];
  /** Points that cannot be placed, with why. */
  readonly excluded: readonly ExcludedPoint[];
}

export interface MapOptions {
  /** One model's size in bytes: where single-model points go, ÷ tasks. */
  readonly modelBytes?: number;
  readonly tasks: number;
}

/**
 * The evaluation table's rows as points: the first row is the individual models (as everywhere in
 * table.ts), a row whose label says "routed" is a routed row. `bytesPerTask` says what the caller
 * knows of a row's storage — bytes, null for a single model, undefined when it does not know (the
 * point is then left out, saying so).
 */
export function paretoPoints(
  table: AccuracyTable,
  bytesPerTask: (method: string) => number | null | undefined,
): ParetoPoint[] {
  const individual = table.rows[0];
  return table.rows.map((row, i) => {
    const bytes = bytesPerTask(row.method);
    const kind: PointKind =
      i === 0
        ? 'individual'
        : /\brouted\b/i.test(row.method)
          ? 'routed'
          : bytes === null
            ? 'single-model'
            : 'per-task';
    return {
      label: row.method,
      accuracy: individual ? normalized(row, individual) * 100 : Number.NaN,
      bytesPerTask: bytes === undefined ? Number.NaN : bytes,
      kind,
    };
  });
}

/** Places every point and finds the frontier (fewest bytes, most accuracy). */
export function paretoMap(input: readonly ParetoPoint[], options: MapOptions): ParetoMap {
  const excluded: ExcludedPoint[] = [];
  const placed: Omit<PlacedPoint, 'onFrontier'>[] = [];
  for (const point of input) {
    const reason = exclusion(point, options);
    if (reason) {
      excluded.push({ point, reason });
      continue;
    }
    const amortised = point.bytesPerTask === null;
    const bytes = amortised ? (options.modelBytes as number) / options.tasks : (point.bytesPerTask as number);
    placed.push({ ...point, accuracy: point.accuracy as number, bytes, amortised });
  }
  // A point is dominated when another has ≤ bytes and ≥ accuracy with one strict; exact duplicates
  // do not dominate each other, so both stay on the frontier as one corner.
  const dominated = (p: (typeof placed)[number]) =>
    placed.some(
      (q) => q.bytes <= p.bytes && q.accuracy >= p.accuracy && (q.bytes < p.bytes || q.accuracy > p.accuracy),
    );
  const points = placed.map((p) => ({ ...p, onFrontier: !dominated(p) }));
  const corners = new Map<string, { bytes: number; accuracy: number; labels: string[] }>();
  for (const p of points) {
    if (!p.onFrontier) continue;
    const key = `${p.bytes}|${p.accuracy}`;
    const corner = corners.get(key) ?? { bytes: p.bytes, accuracy: p.accuracy, labels: [] };
    corner.labels.push(p.label);
    corners.set(key, corner);
  }
  const frontier = [...corners.values()].sort((a, b) => a.bytes - b.bytes);
  return { points, frontier, excluded };
}

function exclusion(p: ParetoPoint, options: MapOptions): string | undefined {
  if (p.accuracy === null || p.accuracy === undefined) return 'no accuracy measured';
  if (Number.isNaN(p.accuracy)) return 'accuracy is NaN';
  if (!Number.isFinite(p.accuracy)) return `accuracy is ${p.accuracy}`;
  if (p.bytesPerTask === null) {
    const m = options.modelBytes;
    if (m === undefined || !(m > 0) || !Number.isFinite(m))
      return 'one model for all tasks, but the model size is not known';
    if (!(options.tasks >= 1)) return 'one model for all tasks, but the number of tasks is not known';
    return undefined;
  }
  if (Number.isNaN(p.bytesPerTask)) return 'bytes per task not known';
  if (!Number.isFinite(p.bytesPerTask) || p.bytesPerTask <= 0)
    return `bytes per task is ${p.bytesPerTask}: a log axis needs a positive size`;
  return undefined;
}

/** A tick: where it goes in data units, and its label ('' for an unlabelled minor tick). */
export interface Tick {
  readonly value: number;
  readonly label: string;
}

export interface Axis {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly Tick[];
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/**
 * A byte count in decimal units, as docs/results.md writes them (52,053 B is "52 KB"): the powers
 * of ten on a log axis read as 10 KB, 100 KB, 1 MB.
 */
export function formatBytes(bytes: number): string {
  let v = bytes;
  let u = 0;
  // Three significant digits; 999,999 B rounds to 1000 KB, which is then 1 MB.
  while (Math.abs(Number(v.toPrecision(3))) >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${UNITS[u]}`;
}

/**
 * The bytes axis: log10, from the decade at or below the smallest point to the decade at or above
 * the largest, every decade labelled. When the points span less than two decades the 2× and 5×
 * ticks are labelled too (a single decade would otherwise carry two labels); wider, they are grid.
 */
export function bytesAxis(values: readonly number[]): Axis {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!finite.length) return { lo: 1e3, hi: 1e6, ticks: decadeTicks(3, 6, false) };
  let lo = Math.floor(Math.log10(Math.min(...finite)) + 1e-9);
  let hi = Math.ceil(Math.log10(Math.max(...finite)) - 1e-9);
  if (hi <= lo) hi = lo + 1;
  // A point exactly on the lowest decade would sit on the axis: give it room.
  if (finite.some((v) => Math.abs(Math.log10(v) - lo) < 0.05)) lo -= 1;
  return { lo: 10 ** lo, hi: 10 ** hi, ticks: decadeTicks(lo, hi, hi - lo < 2) };
}

function decadeTicks(lo: number, hi: number, labelMinor: boolean): Tick[] {
  const ticks: Tick[] = [];
  for (let e = lo; e <= hi; e++) {
    const decade = 10 ** e;
    ticks.push({ value: decade, label: formatBytes(decade) });
    if (e < hi)
      for (const m of [2, 5])
        ticks.push({ value: m * decade, label: labelMinor ? formatBytes(m * decade) : '' });
  }
  return ticks;
}

/**
 * The accuracy axis in %: from the lowest point rounded down to a multiple of 10 (at least 0, at most 90) to at
 * least 100 (normalized accuracy can pass 100, as TALL masks' 100.4 does), ticks every 10 — or
 * every 20 when that would give more than 11.
 */
export function accuracyAxis(values: readonly number[]): Axis {
  const finite = values.filter(Number.isFinite);
  const min = finite.length ? Math.min(...finite) : 0;
  const max = finite.length ? Math.max(...finite) : 100;
  const lo = Math.max(0, Math.min(90, Math.floor(min / 10) * 10));
  const top = Math.max(100, Math.ceil(max / 10) * 10);
  const step = (top - lo) / 10 > 10 ? 20 : 10;
  // The axis ends on a tick.
  const hi = lo + Math.ceil((top - lo) / step) * step;
  const ticks: Tick[] = [];
  for (let v = lo; v <= hi + 1e-9; v += step) ticks.push({ value: v, label: `${v}` });
  return { lo, hi, ticks };
}
