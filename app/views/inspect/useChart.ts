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
import { useStore } from 'zustand';
import { themeStore } from '../../state/theme';

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

/** Axis text and grid colours for the current theme (Chart.js draws on a canvas: no CSS reaches it). */
export function useAxisColours(): { text: string; grid: string } {
  const dark = useStore(themeStore, (s) => s.theme === 'dark');
  return dark
    ? { text: '#c9d1e0', grid: 'rgba(255,255,255,0.08)' }
    : { text: '#3b4458', grid: 'rgba(0,0,0,0.08)' };
}
