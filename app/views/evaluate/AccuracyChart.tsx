// The evaluation table as bars: a group per method, a bar per task. Method labels are long
// ("TIES-Merging (k = 20 %, λ = 1)"): each is broken into lines at its parenthesis and words so
// neighbouring labels never run into each other, and none is skipped or turned on its side.
import { useMemo } from 'react';
import type { ChartConfiguration } from 'chart.js';
import type { EvalReport } from '../../../src/inference/eval-table';
import { taskColour, useAxisColours, useChart } from '../inspect/useChart';

/** A label as lines of at most `width` characters, broken at spaces (a parenthesis starts a line). */
export function labelLines(label: string, width = 18): string[] {
  const lines: string[] = [];
  for (const part of label.split(/\s+(?=\()/)) {
    let line = '';
    for (const word of part.split(/\s+/)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(line);
  }
  return lines;
}

export function AccuracyChart({ report }: { report: EvalReport }) {
  const axis = useAxisColours();
  const config = useMemo<ChartConfiguration>(
    () => ({
      type: 'bar',
      data: {
        labels: report.rows.map((r) => labelLines(r.method)),
        datasets: report.tasks.map((t, i) => ({
          label: t,
          data: report.rows.map((r) => (r.accuracy[i] ?? 0) * 100),
          backgroundColor: taskColour(i, report.tasks.length),
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: {
            ticks: { color: axis.text, autoSkip: false, maxRotation: 0, font: { size: 11 } },
            grid: { color: axis.grid },
          },
          y: {
            min: 0,
            max: 100,
            title: { display: true, text: 'accuracy %', color: axis.text },
            ticks: { color: axis.text },
            grid: { color: axis.grid },
          },
        },
        plugins: { legend: { position: 'bottom', labels: { color: axis.text, boxWidth: 10 } } },
      },
    }),
    [report, axis],
  );
  const ref = useChart(config);
  return (
    <div className="chart accuracy-chart">
      <canvas ref={ref} aria-label="Accuracy per method and task" role="img" data-testid="eval-chart" />
    </div>
  );
}
