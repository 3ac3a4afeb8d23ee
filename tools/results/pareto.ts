// Draws docs/pareto.svg, the accuracy-vs-storage map of docs/results.md, from that file's "Every
// method" table — with the same layout and drawing as the studio's chart (src/inference/pareto-*):
//   node --import tsx tools/results/pareto.ts          (writes docs/pareto.svg)
//   node --import tsx tools/results/pareto.ts --check  (exit 1 when the committed file differs)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PARETO_PALETTE } from '../../app/lib/colour';
import { markdownTable } from '../../src/inference/markdown-table';
import type { ParetoPoint } from '../../src/inference/pareto';
import { paretoLayout } from '../../src/inference/pareto-layout';
import { paretoSvg, svgToString } from '../../src/inference/pareto-svg';

export const RESULTS = new URL('../../docs/results.md', import.meta.url);
export const FIGURE = new URL('../../docs/pareto.svg', import.meta.url);
/** The width of the docs' figure: the narrowest the studio draws it at, readable on a phone too. */
export const FIGURE_WIDTH = 800;

const number = (cell: string | undefined) => (cell ? Number(cell.replace(/,/g, '')) : Number.NaN);

/**
 * The points of the "Every method" table: Normalized is the accuracy; "bytes per task" the storage,
 * empty for a single-model method (placed at one model's size ÷ tasks: the Individual row's bytes,
 * each task's own model file). Rows are told apart by their labels as the table writes them.
 */
export function resultsPoints(md: string): { points: ParetoPoint[]; tasks: number; modelBytes: number } {
  const table = markdownTable(md, 'Every method');
  const col = (name: string) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new Error(`the "Every method" table has no "${name}" column`);
    return i;
  };
  const [acc, bytes, avg] = [col('Normalized'), col('bytes per task'), col('Avg')];
  const tasks = avg - 1;
  const points = table.rows.map((row, i): ParetoPoint => {
    const label = row[0] ?? '';
    const b = row[bytes] ? number(row[bytes]) : null;
    const kind =
      i === 0 && label === 'Individual'
        ? 'individual'
        : /routed/.test(label)
          ? 'routed'
          : b === null
            ? 'single-model'
            : 'per-task';
    return { label, accuracy: number(row[acc]), bytesPerTask: b, kind };
  });
  const individual = points.find((p) => p.kind === 'individual');
  if (!individual?.bytesPerTask) throw new Error('the "Every method" table has no Individual row with bytes');
  return { points, tasks, modelBytes: individual.bytesPerTask };
}

/** docs/pareto.svg's text, from docs/results.md's text. */
export function resultsParetoSvg(md: string): string {
  const layout = paretoLayout({ ...resultsPoints(md), width: FIGURE_WIDTH });
  return `${svgToString(paretoSvg(layout, { palette: PARETO_PALETTE, id: 'pareto', standalone: true }))}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const svg = resultsParetoSvg(readFileSync(RESULTS, 'utf8'));
  if (process.argv.includes('--check')) {
    const same = readFileSync(FIGURE, 'utf8') === svg;
    process.stdout.write(
      same ? 'docs/pareto.svg is up to date\n' : 'docs/pareto.svg differs: run the script\n',
    );
    process.exit(same ? 0 : 1);
  }
  writeFileSync(FIGURE, svg);
  process.stdout.write(`wrote docs/pareto.svg (${svg.length} bytes)\n`);
}
