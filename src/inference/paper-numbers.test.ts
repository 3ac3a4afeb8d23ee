// Plan: docs/results.md's tables of the papers' numbers say exactly what paper-numbers.ts says —
// the papers' table cell for cell, and the paper columns of "Beside the paper" — so the studio's
// reference table and the docs cannot drift apart; and the % of individual agrees with the
// accuracy over the stated individual accuracy where the paper gives both.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markdownTable } from './markdown-table';
import { EMR_TABLE_2, PAPER_NUMBERS, PAPER_TABLE_HEADER, paperTableCells } from './paper-numbers';

const results = readFileSync(new URL('../../docs/results.md', import.meta.url), 'utf8');

describe('the papers’ numbers', () => {
  it('are docs/results.md’s papers’ table, cell for cell', () => {
    const table = markdownTable(results, "The papers' numbers");
    expect(table.header).toEqual([...PAPER_TABLE_HEADER]);
    expect(table.rows).toEqual(paperTableCells());
  });

  it('are the paper columns of docs/results.md’s "Beside the paper" table', () => {
    const table = markdownTable(results, 'Beside the paper');
    expect(table.header.slice(0, 3)).toEqual(['method', 'paper Avg', 'paper normalized']);
    expect(table.rows.map((r) => r.slice(0, 3))).toEqual(
      EMR_TABLE_2.map((p) => [p.method, p.accuracy, p.ofIndividual]),
    );
  });

  it('give a % of individual that is the accuracy over the individual accuracy', () => {
    const individual = Number(EMR_TABLE_2[0]?.accuracy);
    for (const p of EMR_TABLE_2.slice(1))
      expect(Math.abs((Number(p.accuracy) / individual) * 100 - Number(p.ofIndividual))).toBeLessThan(0.06);
    // TALL masks and TSV-C against the TALL-masks checkpoints' individual 92.8 (issue #20). Papers
    // normalise task by task and then average, which is not the ratio of the averages: TSV-C's
    // 92.62 / 92.8 is 99.8 % against its printed 99.7, so the bound is looser — a typo is not.
    for (const method of ['tall_mask', 'tsv_c']) {
      const p = PAPER_NUMBERS.find((q) => q.methods.includes(method));
      expect(Math.abs((Number(p?.accuracy) / 92.8) * 100 - Number(p?.ofIndividual))).toBeLessThan(0.2);
    }
  });
});
