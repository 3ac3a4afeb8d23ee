// Mask density per shared tensor (rows, grouped by block and foldable) and task (columns).
// Hover or the arrow keys pick a cell and the line below tells its numbers; a click (or Enter)
// opens it in the mask viewer.
import { useMemo, useState, type KeyboardEvent } from 'react';
import { useStore } from 'zustand';
import { groupByBlock, inspectStore, type HeatmapSort } from '../../state/inspect';
import type { MergeSummary, TensorStats } from '../../worker/protocol';
import { css, position, scaleFor, ticks, viridis, type Scale } from '../../lib/colour';
import { formatCount, percent, shapeText } from '../../lib/format';
import { CELL_MEANS, maskKind, type MaskKind } from './mask-method';

interface Row {
  readonly key: string;
  readonly label: string;
  readonly group: string;
  readonly isGroup: boolean;
  readonly stats: TensorStats;
}

/** A block's row: densities and conflicts weighted by each tensor's size. */
function aggregate(block: string, tensors: readonly TensorStats[], numTasks: number): TensorStats {
  const numel = tensors.reduce((a, t) => a + t.numel, 0) || 1;
  const weighted = (f: (t: TensorStats) => number) => tensors.reduce((a, t) => a + f(t) * t.numel, 0) / numel;
  return {
    name: block,
    shape: [numel],
    numel,
    conflictRate: weighted((t) => t.conflictRate),
    density: Array.from({ length: numTasks }, (_, k) => weighted((t) => t.density[k] ?? 0)),
    // a block is untouched by a task when every tensor in it is
    ...(tensors.some((t) => t.untouched)
      ? { untouched: Array.from({ length: numTasks }, (_, k) => tensors.every((t) => t.untouched?.[k])) }
      : {}),
  };
}

/** Densities of the cells a task touches: an untouched tensor's 0 would stretch the colour scale. */
function touchedDensities(tensors: readonly TensorStats[]): number[] {
  return tensors.flatMap((t) => t.density.filter((_, k) => !t.untouched?.[k]));
}

/** Large models start with their blocks folded; a block the user toggled keeps its state. */
const FOLD_ABOVE_TENSORS = 80;
const isFolded = (collapsed: Readonly<Record<string, boolean>>, block: string, tensors: number) =>
  collapsed[block] ?? tensors > FOLD_ABOVE_TENSORS;

const mean = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
const sortKey: Record<HeatmapSort, ((t: TensorStats) => number) | undefined> = {
  model: undefined,
  density: (t) => -mean(t.density),
  conflict: (t) => -(Number.isFinite(t.conflictRate) ? t.conflictRate : 0),
  size: (t) => -t.numel,
};

/** The sort in effect: sign conflicts are EMR's (its election), so another method keeps model order. */
const sortFor = (sort: HeatmapSort, kind: MaskKind): HeatmapSort =>
  sort === 'conflict' && kind !== 'emr' ? 'model' : sort;

function useRows(result: MergeSummary, kind: MaskKind): Row[] {
  const { collapsed } = useStore(inspectStore);
  const sort = sortFor(
    useStore(inspectStore, (s) => s.sort),
    kind,
  );
  return useMemo(() => {
    const by = sortKey[sort];
    const numTasks = result.tasks.length;
    const groups = groupByBlock(result.tensors).map((g) => ({
      ...g,
      agg: aggregate(g.block, g.tensors, numTasks),
    }));
    if (by) groups.sort((a, b) => by(a.agg) - by(b.agg));
    const rows: Row[] = [];
    for (const g of groups) {
      const single = g.tensors.length === 1 && g.tensors[0]?.name === g.block;
      if (single) {
        const t = g.tensors[0] as TensorStats;
        rows.push({ key: t.name, label: t.name, group: g.block, isGroup: false, stats: t });
        continue;
      }
      rows.push({ key: `group:${g.block}`, label: g.block, group: g.block, isGroup: true, stats: g.agg });
      if (isFolded(collapsed, g.block, result.tensors.length)) continue;
      const tensors = by ? [...g.tensors].sort((a, b) => by(a) - by(b)) : g.tensors;
      for (const t of tensors)
        rows.push({
          key: t.name,
          label: t.name.slice(g.block.length).replace(/^\./, '') || t.name,
          group: g.block,
          isGroup: false,
          stats: t,
        });
    }
    return rows;
  }, [result, sort, collapsed]);
}

function Legend({ scale, untouched }: { scale: Scale; untouched: boolean }) {
  const stops = Array.from({ length: 11 }, (_, i) => `${css(viridis(i / 10))} ${i * 10}%`).join(', ');
  return (
    <>
      <div className="legend" aria-label={`Colour scale, ${scale.kind}`}>
        <div className="legend-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
        <div className="legend-ticks">
          {ticks(scale).map((t) => (
            <span key={t.value} style={{ left: `${t.at * 100}%` }}>
              {scale.kind === 'log' ? `${+(t.value * 100).toPrecision(2)} %` : percent(t.value, 0)}
            </span>
          ))}
        </div>
      </div>
      {untouched && (
        <span className="legend-untouched" data-testid="legend-untouched" title={UNTOUCHED_TITLE}>
          <span className="hm-swatch untouched" aria-hidden="true" /> untouched (τ = 0)
        </span>
      )}
    </>
  );
}

const CONFLICT_TITLE =
  'Share of the elements where the tasks’ τ disagree in sign (some positive, some negative): one figure ' +
  'per tensor for all tasks together; EMR’s election keeps the sign of the larger total there.';

const UNTOUCHED_TITLE =
  'The task leaves this tensor as the base’s (its adapter does not adapt it): τ = 0, so it has no mask.';

export function Heatmap({ result }: { result: MergeSummary }) {
  // shown only for a mask method (InspectPanel)
  const kind = maskKind(result.spec) ?? 'emr';
  const { sort, scale: scaleKind, collapsed } = useStore(inspectStore);
  const rows = useRows(result, kind);
  const numTasks = result.tasks.length;
  const [active, setActive] = useState<{ row: number; task: number }>({ row: 0, task: 0 });
  const scale = useMemo(() => scaleFor(scaleKind, touchedDensities(result.tensors)), [result, scaleKind]);
  const current = rows[Math.min(active.row, rows.length - 1)];

  const open = (row: Row, task: number) => {
    if (row.isGroup)
      inspectStore.setState({
        collapsed: { ...collapsed, [row.group]: !isFolded(collapsed, row.group, result.tensors.length) },
      });
    else {
      inspectStore.setState({ tensor: row.stats.name, task });
      document.getElementById('mask-viewer')?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const move: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const d = move[e.key];
    if (d) {
      e.preventDefault();
      setActive((a) => ({
        row: Math.max(0, Math.min(rows.length - 1, a.row + d[0])),
        task: Math.max(0, Math.min(numTasks - 1, a.task + d[1])),
      }));
    } else if ((e.key === 'Enter' || e.key === ' ') && current) {
      e.preventDefault();
      open(current, active.task);
    }
  };

  const gridColumns = `minmax(160px, 260px) repeat(${numTasks}, minmax(18px, 1fr))`;
  const task = result.tasks[active.task];
  const d = current?.stats.density[active.task];
  const anyUntouched = result.tensors.some((t) => t.untouched);
  return (
    <section className="card heatmap-card" aria-labelledby="heatmap-title">
      <div className="card-head">
        <h3 id="heatmap-title">Mask density</h3>
        <div className="toolbar">
          <label className="field inline">
            <span>Sort</span>
            <select
              value={sortFor(sort, kind)}
              onChange={(e) => inspectStore.setState({ sort: e.currentTarget.value as HeatmapSort })}
            >
              <option value="model">Model order</option>
              <option value="density">Density</option>
              {kind === 'emr' && <option value="conflict">Sign conflicts</option>}
              <option value="size">Size</option>
            </select>
          </label>
          <div className="segmented" role="radiogroup" aria-label="Colour scale">
            {(['linear', 'log'] as const).map((k) => (
              <button
                key={k}
                type="button"
                role="radio"
                aria-checked={scaleKind === k}
                onClick={() => inspectStore.setState({ scale: k })}
              >
                {k === 'linear' ? 'Linear' : 'Log'}
              </button>
            ))}
          </div>
          <Legend scale={scale} untouched={anyUntouched} />
        </div>
      </div>
      <p className="muted">
        {CELL_MEANS[kind]} Click a cell to open its mask; click a block to fold it.
        {anyUntouched &&
          ' Hatched cells: tensors a task’s adapter leaves untouched (τ = 0), not masks that are empty.'}
      </p>
      <div
        className="heatmap"
        role="grid"
        aria-label="Mask density per tensor and task. Arrow keys move, Enter opens."
        tabIndex={0}
        onKeyDown={onKey}
        data-testid="heatmap"
        style={{ gridTemplateColumns: gridColumns }}
      >
        <div className="hm-row" role="row">
          <div className="hm-corner" role="columnheader">
            Tensor
          </div>
          {result.tasks.map((t) => (
            <div key={t.name} className="hm-task" role="columnheader" title={t.name}>
              <span>{t.name}</span>
            </div>
          ))}
        </div>
        {rows.map((row, r) => (
          <div key={row.key} className={`hm-row${row.isGroup ? ' group' : ''}`} role="row">
            <div
              className="hm-label"
              role="rowheader"
              title={row.stats.name}
              onClick={() => open(row, active.task)}
            >
              {row.isGroup && (
                <span className="fold">
                  {isFolded(collapsed, row.group, result.tensors.length) ? '▸' : '▾'}
                </span>
              )}
              {row.label}
            </div>
            {row.stats.density.map((v, k) => {
              const untouched = row.stats.untouched?.[k] === true;
              return (
                <div
                  key={k}
                  role="gridcell"
                  className={`hm-cell${untouched ? ' untouched' : ''}${active.row === r && active.task === k ? ' active' : ''}`}
                  style={untouched ? undefined : { background: css(viridis(position(v, scale))) }}
                  data-tensor={row.stats.name}
                  data-task={result.tasks[k]?.name}
                  data-density={v}
                  {...(untouched ? { 'data-untouched': '' } : {})}
                  title={`${row.stats.name} × ${result.tasks[k]?.name}: ${untouched ? 'untouched (τ = 0, no mask)' : percent(v, 2)}`}
                  onMouseEnter={() => setActive({ row: r, task: k })}
                  onClick={() => open(row, k)}
                />
              );
            })}
          </div>
        ))}
      </div>
      <p className="hm-details" data-testid="heatmap-details" aria-live="polite">
        {current && task && d !== undefined ? (
          <>
            <code>{current.stats.name}</code> × <strong>{task.name}</strong>:{' '}
            {current.stats.untouched?.[active.task] ? (
              <span data-testid="untouched-detail" title={UNTOUCHED_TITLE}>
                untouched by {task.name} (τ = 0: the base’s own weights, no mask)
              </span>
            ) : (
              <>mask density {percent(d, 2)}</>
            )}
            .{' '}
            {kind === 'emr' && (
              <>
                <span data-testid="conflict-detail" title={CONFLICT_TITLE}>
                  Across all {numTasks} tasks, sign conflicts on{' '}
                  {Number.isFinite(current.stats.conflictRate)
                    ? `${percent(current.stats.conflictRate, 2)} of the ${current.isGroup ? 'block' : 'tensor'}’s elements`
                    : '— (not stored in a bundle)'}
                </span>
                .{' '}
              </>
            )}
            {formatCount(current.stats.numel)} parameters
            {current.isGroup ? ' in the block' : ` ${shapeText(current.stats.shape)}`}.
          </>
        ) : (
          ' '
        )}
      </p>
    </section>
  );
}
