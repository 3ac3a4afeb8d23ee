// The paper's accuracy table: rows are methods (individual models first), columns are tasks, with
// the average and the normalized accuracy (merged / individual, averaged over tasks).

export interface AccuracyRow {
  readonly method: string;
  /** Per task, in task order: accuracy in [0, 1]. */
  readonly accuracy: readonly number[];
}

export interface AccuracyTable {
  readonly tasks: readonly string[];
  readonly rows: readonly AccuracyRow[];
  /** With a routed row: how often routing picked the input's own task. */
  readonly routing?: RoutingSummary;
}

export interface RoutingSummary {
  /** Per task: the share of its set's inputs routed to it. */
  readonly picked: readonly number[];
  /** Over the union of all sets (each input counts once). */
  readonly pickedAll: number;
  /** The routed row's accuracy over the union of all sets. */
  readonly accuracyAll: number;
  /** picks[t][u]: how many of task t's inputs were routed to task u. */
  readonly picks?: readonly (readonly number[])[];
}

export const ROUTER_ROW = 'Router: picked the right task';

export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Mean over tasks of accuracy / individual accuracy (tasks whose individual accuracy is 0 are skipped). */
export function normalized(row: AccuracyRow, individual: AccuracyRow): number {
  const ratios = row.accuracy.flatMap((a, t) =>
    (individual.accuracy[t] ?? 0) > 0 ? [a / (individual.accuracy[t] as number)] : [],
  );
  return mean(ratios);
}

const pct = (x: number) => (x * 100).toFixed(1);

export function tableToMarkdown(table: AccuracyTable): string {
  const individual = table.rows[0];
  const head = `| method | ${table.tasks.join(' | ')} | Avg | Normalized |`;
  const rule = `| --- | ${table.tasks.map(() => '---:').join(' | ')} | ---: | ---: |`;
  const body = table.rows.map(
    (r) =>
      `| ${r.method} | ${r.accuracy.map(pct).join(' | ')} | ${pct(mean(r.accuracy))} | ${individual ? pct(normalized(r, individual)) : ''} |`,
  );
  const routing = table.routing
    ? [
        `| ${ROUTER_ROW} | ${table.routing.picked.map(pct).join(' | ')} | ${pct(mean(table.routing.picked))} | |`,
      ]
    : [];
  return [head, rule, ...body, ...routing].join('\n');
}

/** CSV with accuracies as fractions, for spreadsheets and scripts. */
export function tableToCsv(table: AccuracyTable): string {
  const individual = table.rows[0];
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['method', ...table.tasks, 'avg', 'normalized'].map(quote).join(',')];
  for (const r of table.rows) {
    lines.push(
      [
        quote(r.method),
        ...r.accuracy.map(String),
        String(mean(r.accuracy)),
        individual ? String(normalized(r, individual)) : '',
      ].join(','),
    );
  }
  if (table.routing)
    lines.push(
      [quote(ROUTER_ROW), ...table.routing.picked.map(String), String(mean(table.routing.picked)), ''].join(
        ',',
      ),
    );
  return `${lines.join('\n')}\n`;
}
