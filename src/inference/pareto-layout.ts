// The Pareto chart's geometry in pixels, for any width: axes, markers, the frontier's step line and
// a label for every point that overlaps no other label, marker, leader or the frontier. Labels are
// placed greedily — frontier points first, then from the top down — at the first free spot of a
// list ordered by distance: beside the marker, then further out with a leader line. A label that
// finds no spot gets a number beside its marker and its name in a key under the chart. Text width
// is estimated, not measured (the docs' SVG is written in Node); ParetoChart.browser.test.tsx checks
// the estimate against Chromium's own boxes.
import {
  accuracyAxis,
  bytesAxis,
  formatBytes,
  paretoMap,
  type MapOptions,
  type ParetoMap,
  type ParetoPoint,
  type PlacedPoint,
  type PointKind,
} from './pareto';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Segment {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface LaidLabel {
  /** The text, line by line (several methods at one spot share a label). */
  readonly lines: readonly string[];
  /** Its box; text starts at box.x and each line's baseline is box.y + (i + 0.8) × lineHeight. */
  readonly box: Box;
  /** From the marker to the label, when the label is not beside it. */
  readonly leader?: Segment;
  /** The points it names, as indices into map.points. */
  readonly points: readonly number[];
  /** Set when the label is a number whose name is in the key. */
  readonly key?: number;
}

export interface ParetoLayout {
  readonly width: number;
  readonly height: number;
  readonly fontSize: number;
  readonly lineHeight: number;
  readonly plot: Box;
  readonly map: ParetoMap;
  readonly tasks: number;
  readonly markers: readonly { x: number; y: number; kind: PointKind; point: PlacedPoint }[];
  readonly xTicks: readonly { x: number; label: string }[];
  readonly yTicks: readonly { y: number; label: string }[];
  /** The frontier as a step line: right along the accuracy reached, then up at the next corner. */
  readonly frontier: readonly (readonly [number, number])[];
  readonly labels: readonly LaidLabel[];
  /** Names of the numbered labels, under the chart. */
  readonly key: readonly { key: number; text: string; y: number }[];
  /** The legend of marker kinds, under the axis title. */
  readonly legend: readonly { kind: PointKind | 'frontier'; text: string; x: number; y: number }[];
}

export const MARKER_RADIUS = 5;

/** A row label without its parameters: "TIES-Merging (k = 20 %, λ = 1)" → "TIES-Merging". */
export function shortLabel(label: string): string {
  // One-word parentheses name a variant ("Task Arithmetic (mergekit)") and stay; the rest go.
  const short = label.replace(/\s*\(([^()]*)\)/g, (m, inner: string) => (/^[\w-]+$/.test(inner) ? m : ''));
  return short.trim() || label;
}

/**
 * Width of a line of text in a sans-serif face, from per-character classes: deliberately a little
 * generous, so estimated boxes contain the real ones (the browser test measures).
 */
export function textWidth(text: string, size: number): number {
  let em = 0;
  for (const c of text) {
    if (/[iljtf.,:;'|!() ]/.test(c)) em += 0.33;
    else if (/[mwMW@%]/.test(c)) em += 0.92;
    else if (/[A-Z]/.test(c)) em += 0.7;
    else if (/[0-9]/.test(c)) em += 0.58;
    else em += 0.57;
  }
  return Math.ceil(em * size) + 2;
}

/** Splits "a, b, c" into lines of at most `max` characters, at the commas. */
function wrapNames(names: readonly string[], max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [i, name] of names.entries()) {
    const piece = i < names.length - 1 ? `${name},` : name;
    if (line && line.length + 1 + piece.length > max) {
      lines.push(line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  }
  if (line) lines.push(line);
  return lines;
}

const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function segmentsCross(a: Segment, b: Segment): boolean {
  const o = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) =>
    Math.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax));
  return (
    o(a.x1, a.y1, a.x2, a.y2, b.x1, b.y1) * o(a.x1, a.y1, a.x2, a.y2, b.x2, b.y2) < 0 &&
    o(b.x1, b.y1, b.x2, b.y2, a.x1, a.y1) * o(b.x1, b.y1, b.x2, b.y2, a.x2, a.y2) < 0
  );
}

/** Whether a segment touches a box: an end inside, or crossing one of its sides. */
export function segmentHitsBox(s: Segment, b: Box): boolean {
  // Most pairs are far apart: the segment's own bounding box settles them without the sides.
  if (Math.max(s.x1, s.x2) <= b.x || Math.min(s.x1, s.x2) >= b.x + b.w) return false;
  if (Math.max(s.y1, s.y2) <= b.y || Math.min(s.y1, s.y2) >= b.y + b.h) return false;
  const inside = (x: number, y: number) => x > b.x && x < b.x + b.w && y > b.y && y < b.y + b.h;
  if (inside(s.x1, s.y1) || inside(s.x2, s.y2)) return true;
  const { x, y, w, h } = b;
  return [
    { x1: x, y1: y, x2: x + w, y2: y },
    { x1: x + w, y1: y, x2: x + w, y2: y + h },
    { x1: x, y1: y + h, x2: x + w, y2: y + h },
    { x1: x, y1: y, x2: x, y2: y + h },
  ].some((side) => segmentsCross(s, side));
}

export interface LayoutInput extends MapOptions {
  readonly points: readonly ParetoPoint[];
  readonly width: number;
  readonly height?: number;
  readonly fontSize?: number;
}

const LEGEND: readonly { kind: PointKind | 'frontier'; text: (n: number) => string }[] = [
  { kind: 'per-task', text: () => 'one model per task (per-task artefact)' },
  { kind: 'routed', text: () => 'the same, routed (no task id)' },
  { kind: 'single-model', text: (n) => `one model for all tasks (its size ÷ ${n})` },
  { kind: 'individual', text: () => 'individual models' },
  { kind: 'frontier', text: () => 'Pareto frontier' },
];

export function paretoLayout(input: LayoutInput): ParetoLayout {
  const fontSize = input.fontSize ?? 11;
  const lineHeight = Math.round(fontSize * 1.3);
  const width = input.width;
  const height0 = input.height ?? Math.round(Math.min(560, Math.max(380, width * 0.6)));
  const map = paretoMap(input.points, input);
  const xAxis = bytesAxis(map.points.map((p) => p.bytes));
  const yAxis = accuracyAxis(map.points.map((p) => p.accuracy));
  const plot: Box = { x: 52, y: 10, w: width - 52 - 24, h: height0 - 10 - 44 };
  const px = (b: number) =>
    plot.x +
    (plot.w * (Math.log10(b) - Math.log10(xAxis.lo))) / (Math.log10(xAxis.hi) - Math.log10(xAxis.lo));
  const py = (a: number) => plot.y + plot.h * (1 - (a - yAxis.lo) / (yAxis.hi - yAxis.lo));
  const markers = map.points.map((p) => ({ x: px(p.bytes), y: py(p.accuracy), kind: p.kind, point: p }));
  const frontier: [number, number][] = [];
  for (const [k, c] of map.frontier.entries()) {
    const [x, y] = [px(c.bytes), py(c.accuracy)];
    if (k > 0) frontier.push([x, frontier[frontier.length - 1]?.[1] ?? y]);
    frontier.push([x, y]);
  }
  if (frontier.length) frontier.push([plot.x + plot.w, frontier[frontier.length - 1]?.[1] as number]);
  const frontierSegments: Segment[] = frontier
    .slice(1)
    .map(([x2, y2], i) => ({ x1: frontier[i]?.[0] ?? x2, y1: frontier[i]?.[1] ?? y2, x2, y2 }));

  // Points within a pixel of each other share a marker's spot and one label.
  const groups: number[][] = [];
  for (const [i, m] of markers.entries()) {
    const g = groups.find((gr) => {
      const first = markers[gr[0] as number];
      return first !== undefined && Math.abs(first.x - m.x) < 1 && Math.abs(first.y - m.y) < 1;
    });
    if (g) g.push(i);
    else groups.push([i]);
  }
  const priority = (g: number[]) => {
    const m = markers[g[0] as number];
    return m ? (m.point.onFrontier ? -1e6 : 0) + m.y : 0;
  };
  groups.sort((a, b) => priority(a) - priority(b));

  const r = MARKER_RADIUS;
  const markerBoxes = markers.map((m) => ({ x: m.x - r - 1, y: m.y - r - 1, w: 2 * r + 2, h: 2 * r + 2 }));
  const bounds: Box = { x: plot.x + 2, y: plot.y, w: width - plot.x - 4, h: plot.h };
  const placedBoxes: Box[] = [];
  const leaders: Segment[] = [];
  const labels: LaidLabel[] = [];
  const keyed: { key: number; text: string }[] = [];
  const maxChars = Math.max(18, Math.floor((width - plot.x) / (fontSize * 0.6) / 3));

  const fits = (box: Box, leader: Segment | undefined, own: readonly number[]) => {
    if (box.x < bounds.x || box.y < bounds.y || box.x + box.w > bounds.x + bounds.w) return false;
    if (box.y + box.h > bounds.y + bounds.h) return false;
    if (placedBoxes.some((b) => intersects(b, box))) return false;
    if (markerBoxes.some((b) => intersects(b, box))) return false;
    if (leaders.some((s) => segmentHitsBox(s, box))) return false;
    if (frontierSegments.some((s) => segmentHitsBox(s, box))) return false;
    if (!leader) return true;
    if (placedBoxes.some((b) => segmentHitsBox(leader, b))) return false;
    // A leader may leave through markers that overlap its own (there is no other way out).
    const mine = markerBoxes[own[0] as number] as Box;
    if (markerBoxes.some((b, i) => !own.includes(i) && !intersects(b, mine) && segmentHitsBox(leader, b)))
      return false;
    return !leaders.some((s) => segmentsCross(s, leader));
  };

  /** Spots for a w × h label at marker m, nearest first: beside it, then out on a leader. */
  const spots = (m: { x: number; y: number }, w: number, h: number) => {
    const out: { box: Box; leader?: Segment; cost: number }[] = [];
    const g = 4;
    // Only straight beside: a label above or below a marker in a cluster reads as its neighbour's.
    const beside: [number, number][] = [
      [m.x + r + g, m.y - h / 2],
      [m.x - r - g - w, m.y - h / 2],
    ];
    for (const [k, [x, y]] of beside.entries()) out.push({ box: { x, y, w, h }, cost: k });
    const step = Math.max(4, Math.round(lineHeight / 2));
    for (const dx of [24, 40, 60, 90, 130, 180, 240, 320, 420, 560])
      for (let dy = -plot.h / 2; dy <= plot.h / 2; dy += step)
        for (const side of [1, -1]) {
          const ax = m.x + side * dx;
          const ay = m.y + dy;
          const box = { x: side > 0 ? ax : ax - w, y: ay - h / 2, w, h };
          const len = Math.hypot(dx, dy);
          const leader = {
            x1: m.x + (side * dx * (r + 1)) / len,
            y1: m.y + (dy * (r + 1)) / len,
            x2: ax - side * 2,
            y2: ay,
          };
          // Steep leaders cost more than long flat ones: a label far above or below its point
          // reads as another point's.
          out.push({ box, leader, cost: 10 + Math.hypot(dx, 2 * dy) + (side < 0 ? 15 : 0) });
        }
    return out.sort((a, b) => a.cost - b.cost);
  };

  // The spots depend only on the marker and the label's size: worked out once for every pass.
  const spotCache = new Map<string, ReturnType<typeof spots>>();
  const place = (group: number[], lines: string[], key?: number): boolean => {
    const m = markers[group[0] as number] as (typeof markers)[number];
    const w = Math.max(...lines.map((l) => textWidth(l, fontSize)));
    const h = lines.length * lineHeight;
    const cacheKey = `${group[0]}|${w}|${h}`;
    const candidates = spotCache.get(cacheKey) ?? spots(m, w, h);
    spotCache.set(cacheKey, candidates);
    for (const s of candidates) {
      if (!fits(s.box, s.leader, group)) continue;
      placedBoxes.push(s.box);
      if (s.leader) leaders.push(s.leader);
      labels.push({
        lines,
        box: s.box,
        ...(s.leader ? { leader: s.leader } : {}),
        points: group,
        ...(key !== undefined ? { key } : {}),
      });
      return true;
    }
    return false;
  };

  /** One greedy pass in the given order. */
  const placeAll = (order: readonly number[][]) => {
    placedBoxes.length = 0;
    leaders.length = 0;
    labels.length = 0;
    keyed.length = 0;
    const failed: number[][] = [];
    for (const group of order) {
      const names = group.map((i) => shortLabel(markers[i]?.point.label ?? ''));
      if (place(group, wrapNames(names, maxChars))) continue;
      failed.push(group);
      const key = keyed.length + 1;
      keyed.push({ key, text: names.join(', ') });
      place(group, [`${key}`], key);
    }
    return { labels: [...labels], keyed: [...keyed], failed };
  };
  // Greedy placement can box a label in with its neighbours' labels, or send it far off on a long
  // leader. Each further pass moves the worst-off groups (those that found no spot, else the one
  // with the longest leader) to the front; the pass with the fewest numbered labels, then the
  // shortest leaders, is kept.
  const leaderLength = (ls: readonly LaidLabel[]) =>
    ls.reduce(
      (sum, l) => sum + (l.leader ? Math.hypot(l.leader.x2 - l.leader.x1, l.leader.y2 - l.leader.y1) : 0),
      0,
    );
  const score = (p: ReturnType<typeof placeAll>) => p.keyed.length * 1e6 + leaderLength(p.labels);
  let best = placeAll(groups);
  let last = best;
  let order = groups;
  for (let round = 0; round < 5; round++) {
    let worst = last.failed;
    if (!worst.length) {
      const longest = [...last.labels].sort((p, q) => leaderLength([q]) - leaderLength([p]))[0];
      const group = longest?.leader ? groups.find((g) => g[0] === longest.points[0]) : undefined;
      if (!group || order[0] === group) break;
      worst = [group];
    }
    const moved = new Set(worst);
    order = [...worst, ...order.filter((g) => !moved.has(g))];
    last = placeAll(order);
    if (score(last) < score(best)) best = last;
    else break; // a pass that does not help is not followed by more
  }

  // Under the plot: tick labels, the axis title, the legend (wrapped to the width), then the key.
  let y = plot.y + plot.h + 40;
  const legend: ParetoLayout['legend'][number][] = [];
  let x = plot.x;
  y += lineHeight;
  for (const item of LEGEND) {
    if (!map.points.some((p) => p.kind === item.kind) && item.kind !== 'frontier') continue;
    const text = item.text(input.tasks);
    const w = 22 + textWidth(text, fontSize) + 16;
    if (x + w > width && x > plot.x) {
      x = plot.x;
      y += lineHeight + 2;
    }
    legend.push({ kind: item.kind, text, x, y });
    x += w;
  }
  const key = best.keyed.map((k) => {
    y += lineHeight;
    return { ...k, y };
  });
  return {
    width,
    height: Math.ceil(y + lineHeight / 2),
    fontSize,
    lineHeight,
    plot,
    map,
    tasks: input.tasks,
    markers,
    xTicks: xAxis.ticks.map((t) => ({ x: px(t.value), label: t.label })),
    yTicks: yAxis.ticks.map((t) => ({ y: py(t.value), label: t.label })),
    frontier,
    labels: best.labels,
    key,
    legend,
  };
}

/** One line saying what a point is, for its tooltip and the chart's description. */
export function describePoint(p: PlacedPoint, tasks: number): string {
  const bytes = p.amortised
    ? `${formatBytes(p.bytes)} per task (one model for all ${tasks} tasks)`
    : `${formatBytes(p.bytes)} per task`;
  return `${p.label}: ${p.accuracy.toFixed(1)} %, ${bytes}${p.onFrontier ? ', on the frontier' : ''}`;
}
