// Plan: at the widths the studio draws (800, 1000, 1400 px) every point is named exactly once, and
// no label overlaps another label, a marker, a leader or the frontier, or leaves the plot — on the
// digits-8 numbers of docs/results.md (all named on the chart, none in the key) and on a pile-up
// of forty points at one size (where some must fall back to numbers and the key). The frontier is
// a step line; labels lose their parameters.
import { describe, expect, it } from 'vitest';
import type { ParetoPoint } from './pareto';
import { digits8 } from './testing/digits8-points';
import {
  MARKER_RADIUS,
  paretoLayout,
  segmentHitsBox,
  shortLabel,
  type Box,
  type ParetoLayout,
} from './pareto-layout';

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Every invariant the chart promises, checked on a finished layout. */
function expectClean(layout: ParetoLayout) {
  const named = new Map<number, number>();
  for (const l of layout.labels) for (const p of l.points) named.set(p, (named.get(p) ?? 0) + 1);
  const keyed = new Set(layout.key.map((k) => k.key));
  for (const [i] of layout.map.points.entries()) {
    const n = named.get(i) ?? 0;
    // A point is named by one label, or (in the worst case) only by its line in the key.
    expect(n).toBeLessThanOrEqual(1);
    if (n === 0) expect(keyed.size).toBeGreaterThan(0);
  }
  const r = MARKER_RADIUS;
  const markers = layout.markers.map((m) => ({ x: m.x - r, y: m.y - r, w: 2 * r, h: 2 * r }));
  for (const [i, a] of layout.labels.entries()) {
    expect(a.box.x).toBeGreaterThanOrEqual(layout.plot.x);
    expect(a.box.x + a.box.w).toBeLessThanOrEqual(layout.width);
    expect(a.box.y).toBeGreaterThanOrEqual(layout.plot.y);
    expect(a.box.y + a.box.h).toBeLessThanOrEqual(layout.plot.y + layout.plot.h);
    for (const b of layout.labels.slice(i + 1)) expect(overlaps(a.box, b.box)).toBe(false);
    for (const m of markers) expect(overlaps(a.box, m)).toBe(false);
    // No leader runs through another label.
    for (const b of layout.labels)
      if (b !== a && b.leader) expect(segmentHitsBox(b.leader, a.box)).toBe(false);
  }
  // The key's lines are under the plot and inside the picture.
  for (const k of layout.key) {
    expect(k.y).toBeGreaterThan(layout.plot.y + layout.plot.h);
    expect(k.y).toBeLessThan(layout.height);
  }
}

describe('paretoLayout', () => {
  for (const width of [800, 1000, 1400])
    it(`names every digits-8 point on the chart at ${width} px, overlapping nothing`, () => {
      const layout = paretoLayout({ points: digits8, tasks: 8, modelBytes: 544_032, width });
      expectClean(layout);
      expect(layout.key).toEqual([]);
      expect(layout.labels.flatMap((l) => l.points).sort((a, b) => a - b)).toEqual(digits8.map((_, i) => i));
      // Coincident points share one label: the four mergekit methods at 30.3 %, for one.
      const shared = layout.labels.find((l) => l.points.length === 4);
      expect(shared?.lines.join(' ')).toBe(
        'Task Arithmetic (mergekit), Linear DARE, Model Breadcrumbs, Linear DELLA',
      );
    });

  it('falls back to numbers and a key when forty points pile up at one size', () => {
    const pile: ParetoPoint[] = Array.from({ length: 40 }, (_, i) => ({
      label: `Method number ${i} with a long name`,
      accuracy: 60 + ((i * 37) % 40) / 2,
      bytesPerTask: 50_000,
      kind: 'per-task',
    }));
    const layout = paretoLayout({ points: pile, tasks: 8, width: 800 });
    expectClean(layout);
    expect(layout.key.length).toBeGreaterThan(0);
    for (const k of layout.key) expect(k.text).toMatch(/^Method number \d+ with a long name/);
  });

  it('draws the frontier as a step line that runs on to the right edge', () => {
    const layout = paretoLayout({ points: digits8, tasks: 8, modelBytes: 544_032, width: 800 });
    const [tswitch, individual] = layout.map.frontier;
    expect([tswitch?.labels, individual?.labels]).toEqual([['T-Switch (drop ratio 0.6)'], ['Individual']]);
    const f = layout.frontier;
    expect(f).toHaveLength(4);
    // right along T-Switch's accuracy, up at the individual models, on to the edge
    expect(f[1]?.[1]).toBe(f[0]?.[1]);
    expect(f[2]?.[0]).toBe(f[1]?.[0]);
    expect(f[3]?.[0]).toBe(layout.plot.x + layout.plot.w);
    expect(f[2]?.[1]).toBeLessThan(f[1]?.[1] ?? 0);
  });

  it('places single models at one model ÷ tasks', () => {
    const layout = paretoLayout({ points: digits8, tasks: 8, modelBytes: 544_032, width: 800 });
    const wa = layout.map.points.find((p) => p.label === 'Weight averaging');
    expect(wa).toMatchObject({ bytes: 68_004, amortised: true, onFrontier: false });
  });
});

describe('shortLabel', () => {
  it('drops parameters and keeps a one-word variant', () => {
    expect(shortLabel('TIES-Merging (k = 20 %, λ = 1)')).toBe('TIES-Merging');
    expect(shortLabel('Task Arithmetic (mergekit) (density = 1, normalize: false)')).toBe(
      'Task Arithmetic (mergekit)',
    );
    expect(shortLabel('EMR-Merging, routed (no task id)')).toBe('EMR-Merging, routed');
    expect(shortLabel('Individual')).toBe('Individual');
    expect(shortLabel('(only parameters)')).toBe('(only parameters)');
  });
});
