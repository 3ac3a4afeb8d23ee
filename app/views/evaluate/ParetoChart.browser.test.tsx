// Plan: in Chromium, with the studio's stylesheet and real fonts, the chart fills its box at 800,
// 1000 and 1400 px in both themes, and every label's real box lies inside the box the layout
// estimated for it (so the layout's no-overlap guarantee, tested in Node, holds on screen), inside
// the picture, and clear of every other label and every marker. The papers' table sits beside the
// chart when both fit, under it otherwise. Screenshots go to tmp/pareto-shots/ (git-ignored) for a look.
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { afterEach, describe, expect, it } from 'vitest';
import { page } from 'vitest/browser';
import { paretoLayout } from '../../../src/inference/pareto-layout';
import { digits8 } from '../../../src/inference/testing/digits8-points';
import '../../styles.css';
import { ParetoChart } from './ParetoChart';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  document.documentElement.removeAttribute('data-theme');
});

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
const overlap = (a: Rect, b: Rect) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const rect = (el: SVGGraphicsElement): Rect => {
  const b = el.getBBox();
  return { x: b.x, y: b.y, w: b.width, h: b.height };
};

describe('ParetoChart in Chromium', () => {
  for (const width of [800, 1000, 1400])
    for (const theme of ['light', 'dark'] as const)
      it(`labels clear of each other at ${width} px (${theme})`, async () => {
        await page.viewport(width + 60, 1100);
        document.documentElement.setAttribute('data-theme', theme);
        const box = document.createElement('div');
        box.style.cssText = `width:${width}px;padding:12px;background:var(--surface);color:var(--text)`;
        box.className = 'panel';
        document.body.append(box);
        const root = createRoot(box);
        cleanups.push(() => {
          root.unmount();
          box.remove();
        });
        flushSync(() => root.render(<ParetoChart points={digits8} tasks={8} modelBytes={544_032} />));
        const figure = box.querySelector('figure') as HTMLElement;
        // The chart is laid out again once it has measured its box: wait for that width.
        await expect
          .poll(() => box.querySelector('svg')?.getAttribute('width'))
          .toBe(`${Math.floor(figure.getBoundingClientRect().width)}`);
        const svg = box.querySelector('svg') as SVGSVGElement;
        const drawn = Number(svg.getAttribute('width'));
        const layout = paretoLayout({ points: digits8, tasks: 8, modelBytes: 544_032, width: drawn });

        const texts = [...svg.querySelectorAll<SVGTextElement>('.pt-label text')];
        expect(texts).toHaveLength(layout.labels.length);
        const boxes = texts.map(rect);
        for (const [i, real] of boxes.entries()) {
          const est = layout.labels[i]?.box as Rect;
          // The real glyphs lie inside the estimate (1.5 px of slack: coordinates are written to a
          // tenth of a pixel, and a glyph's box may start a pixel before its origin).
          expect(real.x).toBeGreaterThanOrEqual(est.x - 1.5);
          expect(real.x + real.w).toBeLessThanOrEqual(est.x + est.w + 1.5);
          expect(real.y).toBeGreaterThanOrEqual(est.y - 1.5);
          expect(real.y + real.h).toBeLessThanOrEqual(est.y + est.h + 1.5);
          expect(real.x + real.w).toBeLessThanOrEqual(drawn);
          for (const other of boxes.slice(i + 1)) expect(overlap(real, other)).toBe(false);
        }
        const markers = [...svg.querySelectorAll<SVGGraphicsElement>('[data-label] > :not(title)')].map(rect);
        expect(markers).toHaveLength(digits8.length);
        for (const real of boxes) for (const m of markers) expect(overlap(real, m)).toBe(false);

        // The papers' table: beside the chart when both fit, under it otherwise.
        const table = box.querySelector('[data-testid="paper-numbers"]') as HTMLElement;
        const beside = table.getBoundingClientRect().top < figure.getBoundingClientRect().bottom - 1;
        expect(beside).toBe(width >= 1400);
        // Into the repository's ignored tmp/ (the test server writes only under its root); a look,
        // not a reference image.
        await page.screenshot({
          path: `../../../tmp/pareto-shots/studio-${width}-${theme}.png`,
          element: box,
        });
      });
});
