// Plan: the drawing has a title and a description naming the frontier, one marker per point in the
// kind's shape and palette colour with a tooltip, one text per label (a text's lines on one line of
// the file, so no whitespace renders between them), and escapes what it writes; a standalone file
// carries its namespace and its light/dark style, the studio's copy neither.
import { describe, expect, it } from 'vitest';
import type { ParetoPoint } from './pareto';
import { paretoLayout } from './pareto-layout';
import { paretoSvg, svgToString, type ParetoPalette, type SvgNode } from './pareto-svg';

const palette: ParetoPalette = {
  'per-task': 'rgb(1 2 3)',
  routed: 'rgb(4 5 6)',
  'single-model': 'rgb(7 8 9)',
  individual: 'rgb(10 11 12)',
};
const points: ParetoPoint[] = [
  { label: 'Individual', accuracy: 100, bytesPerTask: 500_000, kind: 'individual' },
  { label: 'A <&> "B"', accuracy: 98, bytesPerTask: 50_000, kind: 'per-task' },
  { label: 'A, routed', accuracy: 40, bytesPerTask: 50_000, kind: 'routed' },
  { label: 'Avg (x = 1)', accuracy: 80, bytesPerTask: null, kind: 'single-model' },
  { label: 'Broken', accuracy: Number.NaN, bytesPerTask: 10, kind: 'per-task' },
];
const layout = paretoLayout({ points, tasks: 4, modelBytes: 500_000, width: 800 });

function* walk(n: SvgNode): Generator<SvgNode> {
  yield n;
  for (const c of n.children) if (typeof c !== 'string') yield* walk(c);
}
const text = (n: SvgNode): string => n.children.map((c) => (typeof c === 'string' ? c : text(c))).join('');

describe('paretoSvg', () => {
  const tree = paretoSvg(layout, { palette, id: 'p' });
  const nodes = [...walk(tree)];

  it('is labelled by a title and a description of the frontier and what was left out', () => {
    expect(tree.attrs['aria-labelledby']).toBe('p-title p-desc');
    const desc = nodes.find((n) => n.attrs['id'] === 'p-desc');
    expect(desc && text(desc)).toBe(
      '4 methods; bytes per task on a log scale. The frontier, fewest bytes first: A <&> "B" (98.0 %), ' +
        'Individual (100.0 %). Not drawn: Broken (accuracy is NaN).',
    );
  });

  it('draws each point in its kind’s shape and colour, with a tooltip', () => {
    const groups = nodes.filter((n) => n.attrs['data-label'] !== undefined);
    expect(groups.map((g) => g.attrs['data-label'])).toEqual([
      'Individual',
      'A <&> "B"',
      'A, routed',
      'Avg (x = 1)',
    ]);
    const shape = (g: SvgNode) => (g.children[1] as SvgNode).tag;
    expect(groups.map(shape)).toEqual(['path', 'circle', 'circle', 'rect']);
    expect((groups[2]?.children[1] as SvgNode).attrs).toMatchObject({ fill: 'none', stroke: 'rgb(4 5 6)' });
    expect((groups[3]?.children[1] as SvgNode).attrs['fill']).toBe('rgb(7 8 9)');
    expect(text(groups[3]?.children[0] as SvgNode)).toBe(
      'Avg (x = 1): 80.0 %, 125 KB per task (one model for all 4 tasks)',
    );
    expect(text(groups[1]?.children[0] as SvgNode)).toContain('on the frontier');
  });

  it('writes one text per label, escaped, its lines together', () => {
    const labels = nodes.filter((n) => n.attrs['data-points'] !== undefined);
    expect(labels).toHaveLength(layout.labels.length);
    const svg = svgToString(tree);
    expect(svg).toContain('A &lt;&amp;&gt; "B"');
    expect(svg).toContain('data-label="A &lt;&amp;&gt; &quot;B&quot;"');
    for (const line of svg.split('\n').filter((l) => l.includes('<text')))
      expect(line).toMatch(/<text[^>]*>.*<\/text>$/);
    expect(svg).not.toContain('xmlns');
    expect(svg).not.toContain('<style>');
  });

  it('carries its namespace and a light and a dark style when standalone', () => {
    const svg = svgToString(paretoSvg(layout, { palette, id: 'p', standalone: true }));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toMatch(/<style>.*prefers-color-scheme:dark.*<\/style>/);
  });
});
