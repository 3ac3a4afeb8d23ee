// A parameter's valid range and the one check of a value against it. A leaf module (it imports
// nothing): the spec parsers (./methods, ./mergekit/spec, ./spectral/spec, ./pertask/spec) export
// their ranges built from it and check with it, and ./method-params puts the same ranges in the
// studio's form, so a range is written once and the CLI and the form refuse the same values.

export interface Range {
  readonly min?: number;
  /** The minimum itself is refused: (min, …). */
  readonly minExclusive?: boolean;
  readonly max?: number;
  readonly maxExclusive?: boolean;
  /** Whole numbers only. */
  readonly integer?: boolean;
}

/** Any finite number. */
export const FINITE: Range = {};
/** [0, ∞). */
export const NON_NEGATIVE: Range = { min: 0 };
/** (0, ∞). */
export const POSITIVE: Range = { min: 0, minExclusive: true };
/** [0, 1]. */
export const UNIT: Range = { min: 0, max: 1 };

export type RangeProblem = 'not-a-number' | 'not-an-integer' | 'below' | 'above';

/** What is wrong with v against the range, or undefined when it lies in it. */
export function rangeProblem(v: unknown, r: Range): RangeProblem | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'not-a-number';
  if (r.integer && !Number.isInteger(v)) return 'not-an-integer';
  if (r.min !== undefined && (r.minExclusive ? !(v > r.min) : !(v >= r.min))) return 'below';
  if (r.max !== undefined && (r.maxExclusive ? !(v < r.max) : !(v <= r.max))) return 'above';
  return undefined;
}

/** The range in interval notation: "[0, 1]", "(0, 1]", "≥ 0", "> 0", or "" for any number. */
export function intervalOf(r: Range): string {
  if (r.min !== undefined && r.max !== undefined)
    return `${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  if (r.min !== undefined) return `${r.minExclusive ? '>' : '≥'} ${r.min}`;
  if (r.max !== undefined) return `${r.maxExclusive ? '<' : '≤'} ${r.max}`;
  return '';
}

/**
 * The spec parsers' message for v out of range, in the spec's own units and the CLI's words:
 * "density must be in [0, 1], got 1.5" (what = the name, with a gloss where one helps).
 */
export function rangeMessage(what: string, r: Range, v: unknown): string {
  const interval = intervalOf(r);
  const bounded = r.min !== undefined && r.max !== undefined;
  const where = interval === '' ? '' : bounded ? ` in ${interval}` : ` ${interval}`;
  if (rangeProblem(v, r.integer ? { integer: true } : {}) !== undefined)
    return `${what} must be ${r.integer ? 'a whole number' : 'a finite number'}${where}, got ${String(v)}`;
  return `${what} must be${where}, got ${String(v)}`;
}

/** Throws cls(rangeMessage(...)) when v lies outside r; returns v as the number it then is. */
export function checkRange(
  what: string,
  r: Range,
  v: unknown,
  cls: new (message: string) => Error = RangeError,
): number {
  if (rangeProblem(v, r) !== undefined) throw new cls(rangeMessage(what, r, v));
  return v as number;
}
