// Step 5's accuracy-vs-storage map (issue #20): each method's normalized accuracy against the bytes
// it stores per task, the Pareto frontier as a step line, and beside it the papers' own numbers.
// Props only: the caller hands in the points (paretoPoints turns the evaluation table into them).
// The drawing is src/inference/pareto-svg.ts's, the same that draws docs/pareto.svg; its text and
// lines are themed by app/styles.css (.pareto-chart), its markers coloured by app/lib/colour.ts.
import { createElement, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { formatBytes, type ParetoPoint } from '../../../src/inference/pareto';
import { paretoLayout } from '../../../src/inference/pareto-layout';
import { paretoSvg, PARETO_TITLE, type SvgNode } from '../../../src/inference/pareto-svg';
import { EMR_TABLE_2, PAPER_NUMBERS } from '../../../src/inference/paper-numbers';
import { PARETO_PALETTE } from '../../lib/colour';

/** SVG attribute names as React spells them: camelCase, but aria-* and data-* as they are. */
function reactName(name: string): string {
  if (name === 'class') return 'className';
  if (name.startsWith('aria-') || name.startsWith('data-')) return name;
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The drawing's element tree as React elements. */
export function toReact(node: SvgNode, key?: number): ReactNode {
  const props: Record<string, unknown> = key === undefined ? {} : { key };
  for (const [k, v] of Object.entries(node.attrs)) props[reactName(k)] = v;
  return createElement(
    node.tag,
    props,
    ...node.children.map((c, i) => (typeof c === 'string' ? c : toReact(c, i))),
  );
}

/** The width of an element, kept up to date as it resizes (the layout is made for one width). */
function useWidth(fallback: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const w = Math.floor(entry?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

export interface ParetoChartProps {
  readonly points: readonly ParetoPoint[];
  readonly tasks: number;
  /** One model's size: where single-model methods are placed (÷ tasks). */
  readonly modelBytes?: number;
  /** A fixed width in px; by default the chart fills its box. */
  readonly width?: number;
}

const MIN_WIDTH = 480;

export function ParetoChart({ points, tasks, modelBytes, width: fixed }: ParetoChartProps) {
  const [figureRef, measured] = useWidth(fixed ?? 800);
  const width = Math.max(MIN_WIDTH, fixed ?? measured);
  const id = `pareto${useId().replace(/[^\w-]/g, '')}`;
  const layout = useMemo(
    () => paretoLayout({ points, tasks, width, ...(modelBytes !== undefined ? { modelBytes } : {}) }),
    [points, tasks, modelBytes, width],
  );
  const svg = useMemo(() => toReact(paretoSvg(layout, { palette: PARETO_PALETTE, id })), [layout, id]);
  const { map } = layout;
  return (
    <div className="pareto" data-testid="pareto">
      <figure className="pareto-figure" ref={figureRef}>
        {svg}
        <figcaption className="muted small">
          Higher is better, further left is smaller. A per-task method’s bytes are its artefact ÷ {tasks}: it
          also needs the base model, not counted here. A single model stores one model for all {tasks} tasks
          and sits at its size ÷ {tasks}; it needs nothing else.
          {map.excluded.length > 0 && (
            <span data-testid="pareto-excluded">
              {' '}
              Not drawn: {map.excluded.map((e) => `${e.point.label} (${e.reason})`).join('; ')}.
            </span>
          )}
        </figcaption>
        {/* hidden by a block around it: a table is at least as wide as its cells whatever its width */}
        <div className="visually-hidden">
          <table data-testid="pareto-data">
            <caption>{PARETO_TITLE}</caption>
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">Normalized accuracy (%)</th>
                <th scope="col">Bytes per task</th>
                <th scope="col">On the frontier</th>
              </tr>
            </thead>
            <tbody>
              {map.points.map((p, i) => (
                <tr key={`${i}`}>
                  <th scope="row">{p.label}</th>
                  <td>{p.accuracy.toFixed(1)}</td>
                  <td>
                    {p.bytes.toFixed(0)}
                    {p.amortised ? ` (one ${formatBytes(modelBytes ?? 0)} model ÷ ${tasks} tasks)` : ''}
                  </td>
                  <td>{p.onFrontier ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </figure>
      <PaperNumbers />
    </div>
  );
}

/** The papers' own numbers, to read the chart's by % of individual (src/inference/paper-numbers.ts). */
export function PaperNumbers() {
  const baselines = EMR_TABLE_2.filter((p) => p.methods.length && !p.methods.includes('emr'));
  return (
    <table className="numbers paper-numbers" data-testid="paper-numbers">
      <caption>
        The papers’ numbers on {PAPER_NUMBERS[0]?.backbone}: quoted, not measured here. Compare by % of
        individual.
      </caption>
      <thead>
        <tr>
          <th scope="col">Method</th>
          <th scope="col">Avg</th>
          <th scope="col">% of individual</th>
          <th scope="col">Per-task artefact</th>
        </tr>
      </thead>
      <tbody>
        {PAPER_NUMBERS.map((p) => (
          <tr key={p.method} title={`${p.source}. Code: ${p.code}. Data-free: ${p.dataFree}.`}>
            <th scope="row">{p.method}</th>
            <td>{p.accuracy}</td>
            <td>{p.ofIndividual}</td>
            <td>{p.artefact}</td>
          </tr>
        ))}
        {baselines.map((p) => (
          <tr key={p.method} title="EMR-Merging paper, Table 2 (individual 90.5)">
            <th scope="row">{p.method} (EMR paper)</th>
            <td>{p.accuracy}</td>
            <td>{p.ofIndividual}</td>
            <td>none (one model)</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
