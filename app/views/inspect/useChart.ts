// A tiny React binding for chart.js: one chart per canvas, rebuilt when its config changes.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { useEffect, useRef } from 'react';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
);

export function useChart(config: ChartConfiguration | undefined) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current || !config) return;
    const chart = new Chart(ref.current, config);
    return () => chart.destroy();
  }, [config]);
  return ref;
}

/** Distinct colours for up to ~30 tasks, readable on light and dark backgrounds. */
export function taskColour(i: number, n: number): string {
  return `hsl(${Math.round((360 * i) / Math.max(1, n))} 70% 55%)`;
}
