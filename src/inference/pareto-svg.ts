// Draws a ParetoLayout as an SVG element tree: the one drawing, which the studio turns into React
// elements (app/views/evaluate/ParetoChart.tsx) and tools/results/pareto.ts into docs/pareto.svg.
// Colours of the marker kinds come in as a palette (app/lib/colour.ts chooses them; src/ does not
// import app/); text, axes and the frontier take classes, themed by the page's stylesheet in the
// studio and by STANDALONE_STYLE's light/dark rules in a file of their own.
import { describePoint, MARKER_RADIUS, type ParetoLayout } from './pareto-layout';
import type { PointKind } from './pareto';

export interface SvgNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string | number>>;
  readonly children: readonly (SvgNode | string)[];
}

export type ParetoPalette = Readonly<Record<PointKind, string>>;

const el = (
  tag: string,
  attrs: Record<string, string | number> = {},
  children: (SvgNode | string)[] = [],
): SvgNode => ({ tag, attrs, children });

const r1 = (x: number) => Math.round(x * 10) / 10;

/** A marker: the kind's shape as well as its colour, so the kinds read without colour too. */
function marker(kind: PointKind, x: number, y: number, colour: string, frontier: boolean): SvgNode {
  const r = MARKER_RADIUS;
  const ring = frontier ? { 'stroke-width': 2 } : { 'stroke-width': 1 };
  switch (kind) {
    case 'single-model':
      return el('rect', {
        x: r1(x - r + 0.5),
        y: r1(y - r + 0.5),
        width: 2 * r - 1,
        height: 2 * r - 1,
        fill: colour,
        class: 'pt-marker',
        ...ring,
      });
    case 'individual':
      return el('path', {
        d: `M${r1(x)} ${r1(y - r - 1)}L${r1(x + r + 1)} ${r1(y)}L${r1(x)} ${r1(y + r + 1)}L${r1(x - r - 1)} ${r1(y)}Z`,
        fill: colour,
        class: 'pt-marker',
        ...ring,
      });
    case 'routed':
      return el('circle', {
        cx: r1(x),
        cy: r1(y),
        r: r - 1,
        fill: 'none',
        stroke: colour,
        'stroke-width': 2,
      });
    default:
      return el('circle', { cx: r1(x), cy: r1(y), r, fill: colour, class: 'pt-marker', ...ring });
  }
}

export interface SvgOptions {
  readonly palette: ParetoPalette;
  /** Prefix of the title and description ids (unique per page). */
  readonly id: string;
  /** Adds STANDALONE_STYLE and the xmlns, for a file of its own. */
  readonly standalone?: boolean;
}

export const PARETO_TITLE = 'Normalized accuracy against bytes stored per task';

/** The chart's description: what a screen reader says for the whole picture. */
export function paretoDescription(layout: ParetoLayout): string {
  const corners = layout.map.frontier.map((c) => `${c.labels.join(' = ')} (${c.accuracy.toFixed(1)} %)`);
  const excluded = layout.map.excluded.map((e) => `${e.point.label} (${e.reason})`);
  return [
    `${layout.map.points.length} methods; bytes per task on a log scale.`,
    corners.length ? `The frontier, fewest bytes first: ${corners.join(', ')}.` : '',
    excluded.length ? `Not drawn: ${excluded.join('; ')}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export function paretoSvg(layout: ParetoLayout, options: SvgOptions): SvgNode {
  const { plot, fontSize, lineHeight } = layout;
  const bottom = plot.y + plot.h;
  const text = (x: number, y: number, s: string, extra: Record<string, string | number> = {}) =>
    el('text', { x: r1(x), y: r1(y), ...extra }, [s]);
  const grid = el('g', { class: 'pt-grid' }, [
    ...layout.xTicks.map((t) =>
      el('line', {
        x1: r1(t.x),
        y1: plot.y,
        x2: r1(t.x),
        y2: bottom,
        ...(t.label ? {} : { class: 'pt-minor' }),
      }),
    ),
    ...layout.yTicks.map((t) => el('line', { x1: plot.x, y1: r1(t.y), x2: plot.x + plot.w, y2: r1(t.y) })),
  ]);
  const axes = el('g', { class: 'pt-axis' }, [
    el('path', { d: `M${plot.x} ${plot.y}V${bottom}H${plot.x + plot.w}`, fill: 'none' }),
    ...layout.xTicks
      .filter((t) => t.label)
      .map((t) => text(t.x, bottom + 15, t.label, { 'text-anchor': 'middle' })),
    ...layout.yTicks.map((t) => text(plot.x - 6, t.y + 4, t.label, { 'text-anchor': 'end' })),
    text(plot.x + plot.w / 2, bottom + 32, 'bytes stored per task (log scale)', {
      'text-anchor': 'middle',
    }),
    text(14, plot.y + plot.h / 2, 'normalized accuracy (%)', {
      'text-anchor': 'middle',
      transform: `rotate(-90 14 ${r1(plot.y + plot.h / 2)})`,
    }),
  ]);
  const frontier = layout.frontier.length
    ? el('polyline', {
        class: 'pt-frontier',
        fill: 'none',
        points: layout.frontier.map(([x, y]) => `${r1(x)},${r1(y)}`).join(' '),
      })
    : undefined;
  const leaders = el(
    'g',
    { class: 'pt-leader' },
    layout.labels.flatMap((l) =>
      l.leader
        ? [el('line', { x1: r1(l.leader.x1), y1: r1(l.leader.y1), x2: r1(l.leader.x2), y2: r1(l.leader.y2) })]
        : [],
    ),
  );
  const markers = el(
    'g',
    {},
    layout.markers.map((m) =>
      el('g', { 'data-label': m.point.label }, [
        el('title', {}, [describePoint(m.point, layout.tasks)]),
        marker(m.kind, m.x, m.y, options.palette[m.kind], m.point.onFrontier),
      ]),
    ),
  );
  const labels = el(
    'g',
    { class: 'pt-label' },
    layout.labels.map((l) =>
      el(
        'text',
        { 'data-points': l.points.join(' '), ...(l.key !== undefined ? { 'data-key': l.key } : {}) },
        l.lines.map((line, i) =>
          el('tspan', { x: r1(l.box.x), y: r1(l.box.y + (i + 0.78) * lineHeight) }, [line]),
        ),
      ),
    ),
  );
  const swatch = (kind: PointKind | 'frontier', x: number, y: number) =>
    kind === 'frontier'
      ? el('line', { class: 'pt-frontier', x1: x, y1: y, x2: x + 16, y2: y })
      : marker(kind, x + 8, y, options.palette[kind], false);
  const legend = el('g', { class: 'pt-legend' }, [
    ...layout.legend.flatMap((item) => [
      swatch(item.kind, item.x, item.y - 4),
      text(item.x + 22, item.y, item.text),
    ]),
    ...layout.key.map((k) => text(plot.x, k.y, `${k.key}. ${k.text}`)),
  ]);
  const id = options.id;
  return el(
    'svg',
    {
      ...(options.standalone ? { xmlns: 'http://www.w3.org/2000/svg' } : {}),
      class: 'pareto-chart',
      width: layout.width,
      height: layout.height,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      'font-size': fontSize,
    },
    [
      el('title', { id: `${id}-title` }, [PARETO_TITLE]),
      el('desc', { id: `${id}-desc` }, [paretoDescription(layout)]),
      ...(options.standalone ? [el('style', {}, [STANDALONE_STYLE])] : []),
      grid,
      axes,
      ...(frontier ? [frontier] : []),
      leaders,
      markers,
      labels,
      legend,
    ],
  );
}

/**
 * The theme of a file of its own, the studio's colours (app/styles.css): light, and dark when the
 * reader's system is (an SVG shown as an image follows prefers-color-scheme).
 */
export const STANDALONE_STYLE = [
  'text{fill:#1b2130}',
  '.pt-grid line{stroke:#1b2130;stroke-opacity:.1}',
  '.pt-grid .pt-minor{stroke-opacity:.05}',
  '.pt-axis path{stroke:#5d6679}',
  '.pt-leader line{stroke:#5d6679}',
  '.pt-frontier{stroke:#3559e0;stroke-width:2}',
  '.pt-marker{stroke:#ffffff}',
  '@media (prefers-color-scheme:dark){',
  'text{fill:#e4e8f1}',
  '.pt-grid line{stroke:#e4e8f1}',
  '.pt-axis path,.pt-leader line{stroke:#9aa3b5}',
  '.pt-frontier{stroke:#7b97ff}',
  '.pt-marker{stroke:#181c25}',
  '}',
].join('');

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escape(s).replace(/"/g, '&quot;');

/** The tree as SVG text, one element per line where that keeps diffs readable. */
export function svgToString(node: SvgNode, depth = 0): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('');
  const pad = '  '.repeat(depth);
  if (!node.children.length) return `${pad}<${node.tag}${attrs}/>`;
  // Inside text, whitespace between tspans would render: a text element is written on one line.
  if (node.tag === 'text' || node.children.every((c) => typeof c === 'string'))
    return `${pad}<${node.tag}${attrs}>${node.children.map((c) => (typeof c === 'string' ? escape(c) : svgToString(c).trim())).join('')}</${node.tag}>`;
  // Mixed text would gain whitespace from indentation; the tree never mixes, so a string child
  // beside elements is written as it is.
  const inner = node.children.map((c) => (typeof c === 'string' ? escape(c) : svgToString(c, depth + 1)));
  return `${pad}<${node.tag}${attrs}>\n${inner.join('\n')}\n${pad}</${node.tag}>`;
}
