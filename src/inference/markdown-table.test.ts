// Plan: the reader finds the nth pipe table under a heading (not one under the next heading),
// trims its cells, keeps empty cells and escaped pipes, and names what it could not find.
import { describe, expect, it } from 'vitest';
import { markdownTable } from './markdown-table';

const MD = `# Doc

## First (2026)

Some text | with a pipe.

| a | b |
| --- | ---: |
| 1 | 2 |
| x \\| y |  |

| c |
|---|
| 3 |

## Second

| d |
| - |
`;

describe('markdownTable', () => {
  it('reads the tables under a heading by position', () => {
    expect(markdownTable(MD, 'First')).toEqual({
      header: ['a', 'b'],
      rows: [
        ['1', '2'],
        ['x | y', ''],
      ],
    });
    expect(markdownTable(MD, 'First', 1)).toEqual({ header: ['c'], rows: [['3']] });
  });

  it('stops at the next heading and names what is missing', () => {
    expect(() => markdownTable(MD, 'First', 2)).toThrow('no table 2 under "First"');
    expect(() => markdownTable(MD, 'Third')).toThrow('no heading "Third"');
    // "| - |" is not a separator row (three dashes at least), so Second has no table.
    expect(() => markdownTable(MD, 'Second')).toThrow('no table 0 under "Second"');
  });
});
