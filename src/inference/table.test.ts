// Plan: the accuracy table's averages and normalized accuracy, and its Markdown/CSV renderings.
import { describe, expect, it } from 'vitest';
import { mean, normalized, ROUTER_ROW, tableToCsv, tableToMarkdown, type AccuracyTable } from './table';

const table: AccuracyTable = {
  tasks: ['a', 'b, c'],
  rows: [
    { method: 'Individual', accuracy: [0.9, 0.8] },
    { method: 'EMR-Merging', accuracy: [0.81, 0.8] },
  ],
};

describe('accuracy table', () => {
  it('normalizes by the individual accuracy per task, then averages', () => {
    expect(mean([0.9, 0.8])).toBeCloseTo(0.85, 12);
    expect(
      normalized(
        table.rows[1] as AccuracyTable['rows'][number],
        table.rows[0] as AccuracyTable['rows'][number],
      ),
    ).toBeCloseTo((0.9 + 1) / 2, 12);
    expect(normalized({ method: 'x', accuracy: [0.5, 0.5] }, { method: 'i', accuracy: [0, 0.5] })).toBe(1);
  });
  it('renders Markdown laid out like the paper (methods × tasks, Avg)', () => {
    expect(tableToMarkdown(table).split('\n')).toEqual([
      '| method | a | b, c | Avg | Normalized |',
      '| --- | ---: | ---: | ---: | ---: |',
      '| Individual | 90.0 | 80.0 | 85.0 | 100.0 |',
      '| EMR-Merging | 81.0 | 80.0 | 80.5 | 95.0 |',
    ]);
  });
  it('renders CSV with quoting', () => {
    expect(tableToCsv(table).split('\n')[0]).toBe('method,a,"b, c",avg,normalized');
    expect(tableToCsv(table).split('\n')[2]).toBe('EMR-Merging,0.81,0.8,0.805,0.95');
  });
  it('adds the router’s share of right picks as a last line without a normalized value', () => {
    const routed = { ...table, routing: { picked: [0.5, 0.25], pickedAll: 0.4, accuracyAll: 0.3 } };
    expect(tableToMarkdown(routed).split('\n').at(-1)).toBe(`| ${ROUTER_ROW} | 50.0 | 25.0 | 37.5 | |`);
    expect(tableToCsv(routed).split('\n').at(-2)).toBe(`${ROUTER_ROW},0.5,0.25,0.375,`);
  });
});
