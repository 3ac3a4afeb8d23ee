// Charts where a picture says more than a table: mask density by layer depth for every task (every
// mask method), and for EMR the distributions of |τ_uni| and of each task's |τ_t| on log-spaced bins
// (the worker counts them from EMR's values only).
import { useEffect, useMemo, useState } from 'react';
import type { ChartConfiguration } from 'chart.js';
import { depthOf } from '../../state/inspect';
import { studioWorker } from '../../worker/client';
import type { Histogram, MergeSummary } from '../../worker/protocol';
import { taskColour, useAxisColours, useChart } from './useChart';

const SAMPLE_TEXT = '65 536';

/** Per depth, each task's density weighted by tensor size. */
export function densityByDepth(result: MergeSummary): { depths: number[]; perTask: number[][] } {
  const byDepth = new Map<number, { numel: number; ones: number[] }>();
  for (const t of result.tensors) {
    const d = depthOf(t.name);
    if (d === undefined) continue;
    const acc = byDepth.get(d) ?? { numel: 0, ones: result.tasks.map(() => 0) };
    acc.numel += t.numel;
    t.density.forEach((x, k) => (acc.ones[k] = (acc.ones[k] ?? 0) + x * t.numel));
    byDepth.set(d, acc);
  }
  const depths = [...byDepth.keys()].sort((a, b) => a - b);
  return {
    depths,
    perTask: result.tasks.map((_, k) =>
      depths.map((d) => {
        const acc = byDepth.get(d);
        return acc ? (acc.ones[k] ?? 0) / acc.numel : 0;
      }),
    ),
  };
}

function DepthChart({ result }: { result: MergeSummary }) {
  const axis = useAxisColours();
  const config = useMemo((): ChartConfiguration | undefined => {
    const { depths, perTask } = densityByDepth(result);
    if (depths.length === 0) return undefined;
    const n = result.tasks.length;
    return {
      type: 'line',
      data: {
        labels: depths.map(String),
        datasets: result.tasks.map((t, k) => ({
          label: t.name,
          data: (perTask[k] ?? []).map((x) => x * 100),
          borderColor: taskColour(k, n),
          backgroundColor: taskColour(k, n),
          pointRadius: 2,
          borderWidth: 1.5,
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { labels: { color: axis.text, boxWidth: 10 } } },
        scales: {
          x: {
            title: { display: true, text: 'block (depth)', color: axis.text },
            ticks: { color: axis.text },
            grid: { color: axis.grid },
          },
          y: {
            title: { display: true, text: 'mask density (%)', color: axis.text },
            ticks: { color: axis.text },
            grid: { color: axis.grid },
          },
        },
      },
    };
  }, [result, axis]);
  const ref = useChart(config);
  if (!config)
    return <p className="muted">No numbered blocks in these tensor names: nothing to plot by depth.</p>;
  return (
    <div className="chart" data-testid="depth-chart">
      <canvas ref={ref} role="img" aria-label="Mask density per block depth, one line per task" />
    </div>
  );
}

function HistogramChart({ hist, result }: { hist: Histogram; result: MergeSummary }) {
  const axis = useAxisColours();
  const config = useMemo((): ChartConfiguration => {
    const labels = hist.log10Edges.slice(0, -1).map((e) => (10 ** e).toExponential(0));
    // Shares, not counts: τ_uni is counted whole and the tasks may be sampled.
    const share = (counts: readonly number[], zeros: number) => {
      const total = counts.reduce((a, c) => a + c, zeros) || 1;
      return counts.map((c) => (100 * c) / total);
    };
    const n = result.tasks.length;
    return {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: '|τ_uni|',
            data: share(hist.tauUni, hist.zeros.tauUni),
            borderColor: axis.text,
            backgroundColor: axis.text,
            borderWidth: 2.5,
            pointRadius: 0,
          },
          ...hist.tasks.map((counts, k) => ({
            label: `|τ| ${result.tasks[k]?.name ?? k}`,
            data: share(counts, hist.zeros.tasks[k] ?? 0),
            borderColor: taskColour(k, n),
            backgroundColor: taskColour(k, n),
            borderWidth: 1,
            pointRadius: 0,
          })),
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { labels: { color: axis.text, boxWidth: 10 } } },
        scales: {
          x: {
            title: { display: true, text: 'magnitude (log bins)', color: axis.text },
            ticks: { color: axis.text, maxTicksLimit: 8 },
            grid: { color: axis.grid },
          },
          y: {
            title: { display: true, text: 'share of elements (%)', color: axis.text },
            ticks: { color: axis.text },
            grid: { color: axis.grid },
          },
        },
      },
    };
  }, [hist, result, axis]);
  const ref = useChart(config);
  return (
    <div className="chart" data-testid="histogram-chart">
      <canvas ref={ref} role="img" aria-label="Histograms of |τ_uni| and each task's |τ_t|" />
    </div>
  );
}

export function Charts({ result }: { result: MergeSummary }) {
  const [hist, setHist] = useState<{ id: number; hist: Histogram } | undefined>();
  const emr = result.spec.method === 'emr';
  useEffect(() => {
    if (!emr) return;
    let live = true;
    void studioWorker()
      .histograms()
      .then((h) => {
        if (live && h) setHist({ id: result.id, hist: h });
      });
    return () => {
      live = false;
    };
  }, [result.id, emr]);
  return (
    <div className={`chart-grid${emr ? '' : ' single'}`}>
      <section className="card" aria-labelledby="depth-title">
        <h3 id="depth-title">Density by depth</h3>
        <DepthChart result={result} />
      </section>
      {emr && (
        <section className="card" aria-labelledby="hist-title">
          <h3 id="hist-title">Magnitudes</h3>
          {hist?.id === result.id ? (
            <HistogramChart hist={hist.hist} result={result} />
          ) : (
            <div className="chart placeholder">Counting…</div>
          )}
          {hist?.id === result.id && hist.hist.sampled && (
            <p className="muted small">|τₜ| from the first {SAMPLE_TEXT} elements of each tensor.</p>
          )}
          {hist?.id === result.id && hist.hist.tasks.length === 0 && (
            <p className="muted small">Restored from a bundle: the tasks’ own |τₜ| need their files.</p>
          )}
        </section>
      )}
    </div>
  );
}
