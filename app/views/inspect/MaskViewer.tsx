// The mask viewer: one tensor's mask for one task (EMR's, TALL masks', Consensus's shared one,
// T-Switch's keep bits), beside a sign (τ_uni, τ_MTL, or T-Switch's sign bits where kept), the
// agreement count across tasks, or another task's mask. Both panes zoom and pan together.
import { useCallback, useEffect, useState, type PointerEvent, type UIEvent } from 'react';
import { useStore } from 'zustand';
import { inspectStore } from '../../state/inspect';
import { studioWorker } from '../../worker/client';
import type { MaskImage, MergeSummary, ViewMode } from '../../worker/protocol';
import { percent, shapeText } from '../../lib/format';
import { MaskCanvas } from './MaskCanvas';
import { legendFor, maskKind, SIGN_TITLE, type MaskKind } from './mask-method';

/** Cells sent per pane: a tensor up to this many elements is drawn one pixel per element. */
const MAX_CELLS = 1 << 20;

/** The inner size of a pane (its scroll box), followed as the page resizes. */
function usePaneSize(): [{ width: number; height: number } | undefined, (el: HTMLElement | null) => void] {
  const [size, setSize] = useState<{ width: number; height: number } | undefined>();
  const ref = useCallback((el: HTMLElement | null) => {
    if (!el) return;
    const measure = () =>
      setSize((s) =>
        s && s.width === el.clientWidth && s.height === el.clientHeight
          ? s
          : { width: el.clientWidth, height: el.clientHeight },
      );
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [size, ref];
}

/**
 * Pixels per cell that show the whole grid in the pane: small tensors are scaled up to fill it
 * (a [17 × 64] pos_embed is drawn as large as the pane allows), large ones down.
 */
export function fitZoom(rows: number, cols: number, pane: { width: number; height: number }): number {
  return Math.max(Math.min(pane.width / cols, pane.height / rows), 0.02);
}

const compareTitles = (kind: MaskKind): Record<Exclude<ViewMode, 'mask'>, string> => ({
  sign: SIGN_TITLE[kind],
  agreement: 'Tasks agreeing (count)',
  'other-mask': 'Another task’s mask',
});

function usePanes(result: MergeSummary) {
  const { tensor, task, compare, otherTask } = useStore(inspectStore);
  const [panes, setPanes] = useState<{ key: string; left: MaskImage; right: MaskImage } | undefined>();
  const key = `${result.id}|${tensor}|${task}|${compare}|${otherTask}`;
  useEffect(() => {
    if (!tensor) return;
    let live = true;
    const worker = studioWorker();
    void Promise.all([
      worker.maskImage({ tensor, task, mode: 'mask', maxCells: MAX_CELLS }),
      worker.maskImage({ tensor, task, mode: compare, otherTask, maxCells: MAX_CELLS }),
    ]).then(([left, right]) => {
      if (live && left && right) setPanes({ key, left, right });
    });
    return () => {
      live = false;
    };
  }, [key, tensor, task, compare, otherTask]);
  return panes;
}

// Panning: drag any pane, and every pane of the viewer follows (found through the DOM, so no
// React ref is read while rendering).
const drags = new WeakMap<Element, { x: number; y: number; left: number; top: number }>();

function follow(from: HTMLElement): void {
  for (const el of from.closest('.panes')?.querySelectorAll<HTMLElement>('.pane-scroll') ?? [])
    if (el !== from) {
      el.scrollLeft = from.scrollLeft;
      el.scrollTop = from.scrollTop;
    }
}
function startDrag(e: PointerEvent<HTMLDivElement>): void {
  const el = e.currentTarget;
  el.setPointerCapture(e.pointerId);
  drags.set(el, { x: e.clientX, y: e.clientY, left: el.scrollLeft, top: el.scrollTop });
}
function moveDrag(e: PointerEvent<HTMLDivElement>): void {
  const el = e.currentTarget;
  const d = drags.get(el);
  if (!d) return;
  el.scrollLeft = d.left - (e.clientX - d.x);
  el.scrollTop = d.top - (e.clientY - d.y);
  follow(el);
}
const endDrag = (e: PointerEvent<HTMLDivElement>) => drags.delete(e.currentTarget);
const onPaneScroll = (e: UIEvent<HTMLDivElement>) => follow(e.currentTarget);

export function MaskViewer({ result }: { result: MergeSummary }) {
  // shown only for a mask method (InspectPanel)
  const kind = maskKind(result.spec) ?? 'emr';
  const COMPARE = compareTitles(kind);
  const maskOf = (t: number) => `${kind === 'switch' ? 'Keep bits' : 'Mask'} of ${result.tasks[t]?.name}`;
  const { tensor, task, compare, otherTask } = useStore(inspectStore);
  const panes = usePanes(result);
  // A zoom the user chose holds for the tensor it was chosen on; a new tensor starts fitted.
  const [zoomed, setZoomed] = useState<{ tensor: string | undefined; zoom: number } | undefined>();
  const stats = result.tensors.find((t) => t.name === tensor);
  const img = panes?.left;
  const [pane, paneRef] = usePaneSize();
  // Fit: the whole tensor in the pane, whatever its size.
  const fit = img && pane ? fitZoom(img.rows, img.cols, pane) : 1;
  const z = zoomed && zoomed.tensor === tensor ? zoomed.zoom : fit;
  const setZoom = (zoom: number | undefined) => setZoomed(zoom === undefined ? undefined : { tensor, zoom });
  const set = (patch: Partial<ReturnType<typeof inspectStore.getState>>) => inspectStore.setState(patch);

  return (
    <section className="card" aria-labelledby="viewer-title" id="mask-viewer" data-testid="mask-viewer">
      <div className="card-head">
        <h3 id="viewer-title">Mask viewer</h3>
        <div className="toolbar">
          <label className="field inline">
            <span>Tensor</span>
            <select
              value={tensor ?? ''}
              onChange={(e) => set({ tensor: e.currentTarget.value })}
              aria-label="Tensor"
            >
              {result.tensors.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name} {shapeText(t.shape)}
                </option>
              ))}
            </select>
          </label>
          <TaskSelect label="Task" tasks={result.tasks} value={task} onChange={(i) => set({ task: i })} />
          <label className="field inline">
            <span>Beside it</span>
            <select
              value={compare}
              onChange={(e) => set({ compare: e.currentTarget.value as ViewMode })}
              aria-label="Beside it"
            >
              {Object.entries(COMPARE).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          {compare === 'other-mask' && (
            <TaskSelect
              label="Other task"
              tasks={result.tasks}
              value={otherTask}
              onChange={(i) => set({ otherTask: i })}
            />
          )}
          <div className="segmented" aria-label="Zoom">
            <button type="button" aria-label="Zoom out" onClick={() => setZoom(z / 2)}>
              −
            </button>
            <button type="button" onClick={() => setZoom(undefined)}>
              Fit
            </button>
            <button type="button" aria-label="Zoom in" onClick={() => setZoom(z * 2)}>
              +
            </button>
          </div>
        </div>
      </div>
      {stats && img && (
        <p className="muted" data-testid="viewer-caption">
          {shapeText(stats.shape)} shown as {img.viewRows} × {img.viewCols}
          {img.blockRows * img.blockCols > 1
            ? `, each pixel the density of a ${img.blockRows} × ${img.blockCols} block`
            : ', one pixel per element'}
          .{' '}
          {stats.untouched?.[task]
            ? `${result.tasks[task]?.name} leaves this tensor untouched (τ = 0): its mask is empty by construction.`
            : `Density for ${result.tasks[task]?.name}: ${percent(stats.density[task] ?? 0)}.`}{' '}
          {kind === 'consensus' &&
            'Every task shares the consensus mask: another task’s mask and the agreement show it again. '}
          Drag to pan.
        </p>
      )}
      <div className="panes">
        {panes &&
          [panes.left, panes.right].map((image, i) => (
            <figure key={i} className="pane">
              <figcaption>
                {i === 0
                  ? maskOf(task)
                  : compare === 'other-mask'
                    ? maskOf(otherTask)
                    : compare === 'sign' && kind === 'switch'
                      ? `Sign bits of ${result.tasks[task]?.name} (where kept)`
                      : COMPARE[compare as Exclude<ViewMode, 'mask'>]}
              </figcaption>
              <div
                ref={i === 0 ? paneRef : undefined}
                className="pane-scroll"
                tabIndex={0}
                aria-label="Mask image; scroll or drag to pan"
                onPointerDown={startDrag}
                onPointerMove={moveDrag}
                onPointerUp={endDrag}
                onPointerCancel={endDrag}
                onScroll={onPaneScroll}
              >
                <MaskCanvas image={image} zoom={z} label={i === 0 ? 'Task mask' : 'Comparison'} />
              </div>
              <p className="muted small" data-testid="pane-legend">
                {legendFor(kind, image.mode, image.numTasks)}
              </p>
            </figure>
          ))}
      </div>
    </section>
  );
}

function TaskSelect(props: {
  label: string;
  tasks: readonly { readonly name: string }[];
  value: number;
  onChange: (task: number) => void;
}) {
  return (
    <label className="field inline">
      <span>{props.label}</span>
      <select
        value={props.value}
        onChange={(e) => props.onChange(Number(e.currentTarget.value))}
        aria-label={props.label}
      >
        {props.tasks.map((t, i) => (
          <option key={t.name} value={i}>
            {t.name}
          </option>
        ))}
      </select>
    </label>
  );
}
