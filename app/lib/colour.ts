// Colour maps for the heatmap and the mask viewer. Sequential: viridis (perceptually even, readable
// by colour-blind people, fine in both themes). Diverging: blue – neutral – red for signs.

const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [181, 222, 43],
  [253, 231, 37],
];

export type Rgb = readonly [number, number, number];

function ramp(stops: readonly Rgb[], x: number): Rgb {
  const t = Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const f = t - i;
  const a = stops[i] as Rgb;
  const b = stops[i + 1] as Rgb;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export const viridis = (x: number): Rgb => ramp(VIRIDIS, x);

const DIVERGING: readonly Rgb[] = [
  [33, 102, 172],
  [146, 197, 222],
  [240, 240, 240],
  [244, 165, 130],
  [178, 24, 43],
];

/** x in [-1, 1]: −1 blue, 0 neutral, +1 red. */
export const diverging = (x: number): Rgb => ramp(DIVERGING, (x + 1) / 2);

export const css = ([r, g, b]: Rgb) => `rgb(${Math.round(r)} ${Math.round(g)} ${Math.round(b)})`;

/** A colour scale's domain: linear between lo and hi, or log10 between lo (> 0) and hi. */
export interface Scale {
  readonly kind: 'linear' | 'log';
  readonly lo: number;
  readonly hi: number;
}

/**
 * The domain for a set of densities: linear over the data's range rounded out to 5 % steps (EMR
 * masks often sit between 50 and 80 %, and a 0–100 % ramp would paint them all one colour); log
 * from the smallest non-zero value's decade up to 100 %.
 */
export function scaleFor(kind: Scale['kind'], values: Iterable<number>): Scale {
  let min = 1;
  let max = 0;
  let minPositive = 1;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
    if (v > 0) minPositive = Math.min(minPositive, v);
  }
  if (kind === 'log') return { kind, lo: Math.max(1e-6, 10 ** Math.floor(Math.log10(minPositive))), hi: 1 };
  if (max < min) return { kind, lo: 0, hi: 1 };
  const lo = Math.floor(min * 20) / 20;
  const hi = Math.max(lo + 0.05, Math.ceil(max * 20) / 20);
  return { kind, lo, hi };
}

/** Position in [0, 1] of a value on the scale (clamped). */
export function position(x: number, scale: Scale): number {
  const clamp = (t: number) => Math.min(1, Math.max(0, t));
  if (scale.kind === 'linear') return clamp((x - scale.lo) / (scale.hi - scale.lo));
  if (x <= 0) return 0;
  const lo = Math.log10(scale.lo);
  return clamp((Math.log10(x) - lo) / (Math.log10(scale.hi) - lo));
}

/** Ticks for a legend: values and their positions. */
export function ticks(scale: Scale): { value: number; at: number }[] {
  if (scale.kind === 'linear')
    return [0, 0.25, 0.5, 0.75, 1].map((t) => {
      const value = scale.lo + (scale.hi - scale.lo) * t;
      return { value, at: t };
    });
  const out = [];
  for (let e = Math.round(Math.log10(scale.lo)); e <= Math.round(Math.log10(scale.hi)); e++)
    out.push({ value: 10 ** e, at: position(10 ** e, scale) });
  return out;
}

/**
 * The Pareto chart's marker kinds (src/inference/pareto.ts): mid-tones of the two ramps above, so
 * each reads on the light and the dark surface — per-task methods viridis's teal, single models
 * the diverging red, the individual models its blue. The routed points are per-task ones, hollow.
 */
export const PARETO_PALETTE = {
  'per-task': css(viridis(0.5)),
  routed: css(viridis(0.5)),
  'single-model': css(diverging(0.85)),
  individual: css(diverging(-0.85)),
} as const;
