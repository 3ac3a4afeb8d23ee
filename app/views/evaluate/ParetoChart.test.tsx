// Plan: the studio's Pareto chart is the shared drawing (the same markers, labels and frontier as
// paretoSvg's tree) under React's attribute names; it is labelled by its title and description,
// repeats its data in a visually hidden table, says what it could not draw, and sets the papers'
// numbers beside it — all from props, with no store.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ParetoPoint } from '../../../src/inference/pareto';
import { EMR_TABLE_2, PAPER_NUMBERS } from '../../../src/inference/paper-numbers';
import { paretoLayout } from '../../../src/inference/pareto-layout';
import { paretoSvg, svgToString } from '../../../src/inference/pareto-svg';
import { PARETO_PALETTE } from '../../lib/colour';
import { ParetoChart } from './ParetoChart';

const points: ParetoPoint[] = [
  { label: 'Individual', accuracy: 100, bytesPerTask: 544_032, kind: 'individual' },
  { label: 'T-Switch (drop ratio 0.6)', accuracy: 98.8, bytesPerTask: 52_053, kind: 'per-task' },
  { label: 'T-Switch, routed (no task id)', accuracy: 38.3, bytesPerTask: 52_053, kind: 'routed' },
  { label: 'Weight averaging', accuracy: 79.5, bytesPerTask: null, kind: 'single-model' },
  { label: 'Not evaluated', accuracy: Number.NaN, bytesPerTask: 1000, kind: 'per-task' },
];
const html = renderToStaticMarkup(<ParetoChart points={points} tasks={8} modelBytes={544_032} width={800} />);
const count = (s: string, re: RegExp) => [...s.matchAll(re)].length;

describe('ParetoChart', () => {
  it('is the shared drawing, under React’s attribute names', () => {
    const layout = paretoLayout({ points, tasks: 8, modelBytes: 544_032, width: 800 });
    const file = svgToString(paretoSvg(layout, { palette: PARETO_PALETTE, id: 'x' }));
    for (const tag of [/<circle /g, /<rect /g, /<path /g, /<tspan /g, /<line /g, /<polyline /g])
      expect(count(html, tag)).toBe(count(file, tag));
    expect(html).toContain('stroke-width="2"');
    expect(html).toContain('text-anchor="end"');
    expect(html).toContain('class="pt-frontier"');
    expect(html).not.toMatch(/strokeWidth|textAnchor|className/);
    expect(html).toContain(`fill="${PARETO_PALETTE['single-model']}"`);
  });

  it('is labelled by its title and description', () => {
    const ids = /aria-labelledby="([^" ]+) ([^"]+)"/.exec(html);
    expect(ids).not.toBeNull();
    expect(html).toContain(
      `<title id="${ids?.[1]}">Normalized accuracy against bytes stored per task</title>`,
    );
    expect(html).toMatch(
      new RegExp(`<desc id="${ids?.[2]}">4 methods;.*T-Switch \\(drop ratio 0.6\\) \\(98.8 %\\), Individual`),
    );
  });

  it('repeats the data in a hidden table and says what it left out', () => {
    const table = /<table data-testid="pareto-data">(.*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(count(table, /<tr>/g)).toBe(1 + 4);
    expect(table).toContain(
      '<th scope="row">Weight averaging</th><td>79.5</td><td>68004 (one 544 KB model ÷ 8 tasks)</td><td>no</td>',
    );
    expect(table).toContain(
      '<th scope="row">T-Switch (drop ratio 0.6)</th><td>98.8</td><td>52053</td><td>yes</td>',
    );
    expect(html).toMatch(/data-testid="pareto-excluded">.*Not drawn: Not evaluated \(accuracy is NaN\)/);
  });

  it('sets the papers’ numbers beside it', () => {
    const table = /data-testid="paper-numbers">(.*?)<\/table>/.exec(html)?.[1] ?? '';
    expect(count(table, /<tr title=/g)).toBe(PAPER_NUMBERS.length + EMR_TABLE_2.length - 2);
    expect(table).toContain('<th scope="row">T-Switch (CVPR 2025)</th><td>90.98</td><td>≈100</td>');
    expect(table).toContain('<th scope="row">TIES-Merging (EMR paper)</th><td>73.6</td><td>81.3</td>');
  });
});
