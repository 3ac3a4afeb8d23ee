// Plan: the frontier keeps exactly the points no other point beats on both bytes and accuracy
// (checked against a brute-force definition on random sets, and by hand on ties and duplicates);
// single-model methods sit at model size ÷ tasks and are flagged; unplaceable points are excluded
// with a reason; the axes give readable decade ticks and a % axis that reaches 100.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracyAxis, bytesAxis, formatBytes, paretoMap, paretoPoints, type ParetoPoint } from './pareto';

const p = (label: string, accuracy: number | null, bytesPerTask: number | null): ParetoPoint => ({
  label,
  accuracy,
  bytesPerTask,
  kind: bytesPerTask === null ? 'single-model' : 'per-task',
});

describe('paretoMap', () => {
  it('keeps the undominated points, fewest bytes first', () => {
    const map = paretoMap(
      [
        p('Individual', 100, 544_032),
        p('EMR', 94.0, 98_180),
        p('TALL', 98.2, 98_166),
        p('T-Switch', 98.8, 52_053),
        p('Tiny', 50, 10_000),
      ],
      { tasks: 8 },
    );
    expect(map.points.filter((q) => q.onFrontier).map((q) => q.label)).toEqual([
      'Individual',
      'T-Switch',
      'Tiny',
    ]);
    expect(map.frontier.map((c) => [c.bytes, c.accuracy])).toEqual([
      [10_000, 50],
      [52_053, 98.8],
      [544_032, 100],
    ]);
    expect(map.excluded).toEqual([]);
  });

  it('places a single-model method at model size ÷ tasks and flags it', () => {
    const map = paretoMap([p('Individual', 100, 800), p('TIES', 80, null)], { tasks: 8, modelBytes: 800 });
    const ties = map.points.find((q) => q.label === 'TIES');
    expect(ties).toMatchObject({ bytes: 100, amortised: true, onFrontier: true });
    expect(map.points[0]).toMatchObject({ bytes: 800, amortised: false });
  });

  it('handles ties: same bytes keeps the higher, same accuracy the smaller, duplicates both', () => {
    const map = paretoMap(
      [
        p('low', 70, 1000),
        p('high', 80, 1000),
        p('bigger', 80, 2000),
        p('twin A', 90, 3000),
        p('twin B', 90, 3000),
      ],
      { tasks: 2 },
    );
    const on = Object.fromEntries(map.points.map((q) => [q.label, q.onFrontier]));
    expect(on).toEqual({ low: false, high: true, bigger: false, 'twin A': true, 'twin B': true });
    expect(map.frontier).toEqual([
      { bytes: 1000, accuracy: 80, labels: ['high'] },
      { bytes: 3000, accuracy: 90, labels: ['twin A', 'twin B'] },
    ]);
  });

  it('excludes what cannot be placed, saying why', () => {
    const map = paretoMap(
      [
        p('nan', Number.NaN, 100),
        p('missing', null, 100),
        p('inf', Number.POSITIVE_INFINITY, 100),
        p('zero bytes', 50, 0),
        p('nan bytes', 50, Number.NaN),
        p('negative bytes', 50, -5),
        p('one model', 50, null),
        p('ok', 50, 100),
      ],
      { tasks: 4 },
    );
    expect(map.points.map((q) => q.label)).toEqual(['ok']);
    expect(map.excluded.map((e) => [e.point.label, e.reason])).toEqual([
      ['nan', 'accuracy is NaN'],
      ['missing', 'no accuracy measured'],
      ['inf', 'accuracy is Infinity'],
      ['zero bytes', 'bytes per task is 0: a log axis needs a positive size'],
      ['nan bytes', 'bytes per task not known'],
      ['negative bytes', 'bytes per task is -5: a log axis needs a positive size'],
      ['one model', 'one model for all tasks, but the model size is not known'],
    ]);
  });

  it('agrees with the definition of dominance on random sets', () => {
    const point = fc.record({
      accuracy: fc.integer({ min: 0, max: 10 }),
      bytes: fc.integer({ min: 1, max: 10 }),
    });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 30 }), (raw) => {
        const pts = raw.map((r, i) => p(`m${i}`, r.accuracy, r.bytes));
        const map = paretoMap(pts, { tasks: 1 });
        for (const [i, q] of map.points.entries()) {
          const beaten = raw.some(
            (o) =>
              o.bytes <= (raw[i]?.bytes ?? 0) &&
              o.accuracy >= (raw[i]?.accuracy ?? 0) &&
              (o.bytes < (raw[i]?.bytes ?? 0) || o.accuracy > (raw[i]?.accuracy ?? 0)),
          );
          expect(q.onFrontier).toBe(!beaten);
        }
        // The corners climb: more bytes always buys more accuracy along the frontier.
        for (let k = 1; k < map.frontier.length; k++) {
          expect(map.frontier[k]?.bytes).toBeGreaterThan(map.frontier[k - 1]?.bytes ?? 0);
          expect(map.frontier[k]?.accuracy).toBeGreaterThan(map.frontier[k - 1]?.accuracy ?? 0);
        }
      }),
    );
  });
});

describe('axes', () => {
  it('formats bytes in decimal units', () => {
    expect([1, 999, 1000, 52_053, 98_180, 544_032, 999_999, 1e6, 2e9].map(formatBytes)).toEqual([
      '1 B',
      '999 B',
      '1 KB',
      '52.1 KB',
      '98.2 KB',
      '544 KB',
      '1 MB',
      '1 MB',
      '2 GB',
    ]);
  });

  it('spans whole decades on the bytes axis, labelling the decades', () => {
    const axis = bytesAxis([52_053, 68_004, 544_032]);
    expect([axis.lo, axis.hi]).toEqual([1e4, 1e6]);
    expect(axis.ticks.filter((t) => t.label).map((t) => t.label)).toEqual(['10 KB', '100 KB', '1 MB']);
    expect(axis.ticks.map((t) => t.value)).toEqual([1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6]);
  });

  it('labels 2× and 5× when the points fit in one decade, and leaves room at a decade', () => {
    const narrow = bytesAxis([30_000, 60_000]);
    expect(narrow.ticks.map((t) => t.label)).toEqual(['10 KB', '20 KB', '50 KB', '100 KB']);
    expect(bytesAxis([1e5, 5e5]).lo).toBe(1e4);
    expect(bytesAxis([]).ticks.length).toBeGreaterThan(0);
  });

  it('runs the accuracy axis to 100 or past it', () => {
    expect(accuracyAxis([25, 98.8, 100])).toMatchObject({ lo: 20, hi: 100 });
    expect(accuracyAxis([25, 100]).ticks.map((t) => t.value)).toEqual([20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(accuracyAxis([95, 100.4])).toMatchObject({ lo: 90, hi: 110 });
    expect(accuracyAxis([0, 250]).ticks.map((t) => t.value)).toEqual([
      0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260,
    ]);
  });
});

describe('paretoPoints', () => {
  it('turns the evaluation table into points: normalized %, kinds, storage as the caller knows it', () => {
    const table = {
      tasks: ['a', 'b'],
      rows: [
        { method: 'Individual', accuracy: [0.8, 0.5] },
        { method: 'EMR-Merging', accuracy: [0.8, 0.25] },
        { method: 'EMR-Merging, routed (no task id)', accuracy: [0.4, 0.25] },
        { method: 'Weight averaging', accuracy: [0.4, 0.5] },
        { method: 'Unknown', accuracy: [0.4, 0.5] },
      ],
    };
    const bytes: Record<string, number | null> = {
      Individual: 1000,
      'EMR-Merging': 200,
      'EMR-Merging, routed (no task id)': 200,
      'Weight averaging': null,
    };
    const points = paretoPoints(table, (m) => bytes[m]);
    expect(points.map((q) => [q.label, q.accuracy, q.bytesPerTask, q.kind])).toEqual([
      ['Individual', 100, 1000, 'individual'],
      ['EMR-Merging', 75, 200, 'per-task'],
      ['EMR-Merging, routed (no task id)', 50, 200, 'routed'],
      ['Weight averaging', 75, null, 'single-model'],
      ['Unknown', 75, Number.NaN, 'per-task'],
    ]);
    expect(paretoMap(points, { tasks: 2, modelBytes: 1000 }).excluded).toEqual([
      { point: points[4], reason: 'bytes per task not known' },
    ]);
  });
});
