// Reads a pipe table out of a Markdown document: the tables of docs/results.md are where the
// Pareto chart's numbers and the papers' numbers are written, and their tests read them back.

export interface MarkdownTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** A table row's cells, trimmed (a `\|` inside a cell stays in it). */
function cells(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return body.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/**
 * The `nth` table (0 = the first) after the heading whose text starts with `heading`, before the
 * next heading of any level. Throws when there is none, naming the heading.
 */
export function markdownTable(md: string, heading: string, nth = 0): MarkdownTable {
  const lines = md.split(/\r?\n/);
  const start = lines.findIndex((l) => /^#{1,6}\s/.test(l) && l.replace(/^#+\s+/, '').startsWith(heading));
  if (start < 0) throw new Error(`no heading "${heading}"`);
  let seen = 0;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^#{1,6}\s/.test(line)) break;
    const next = lines[i + 1] ?? '';
    if (!line.trim().startsWith('|') || !/^\s*\|?\s*:?-{3,}/.test(next)) continue;
    if (seen++ < nth) continue;
    const rows: string[][] = [];
    for (let j = i + 2; j < lines.length && (lines[j] as string).trim().startsWith('|'); j++)
      rows.push(cells(lines[j] as string));
    return { header: cells(line), rows };
  }
  throw new Error(`no table ${nth} under "${heading}"`);
}
