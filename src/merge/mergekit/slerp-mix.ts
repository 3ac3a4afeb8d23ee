// The element-wise step shared by slerp, nuslerp and their lerp fallbacks: out = (a·v0 + b·v1),
// divided by `divide` when given — each product, the sum and the quotient rounded to f32, in this
// order (torch's and numpy's separate f32 ops; never fused). The factors come from a whole-vector
// pass (./slerp); this step is what a GPU program may run per element: `combine2` with one set of
// factors, `combineRows` with one per row (nuslerp's vectors along the last dimension).

const fr = Math.fround;

export interface Combine2 {
  readonly a: number;
  readonly b: number;
  /** nuslerp divides the sum by sin θ; slerp and the lerps do not. */
  readonly divide?: number | undefined;
}

export function combine2(
  f: Combine2,
  v0: Float32Array,
  v1: Float32Array,
  out: Float32Array = new Float32Array(v0.length),
  idx?: readonly number[],
): Float32Array {
  const a = fr(f.a);
  const b = fr(f.b);
  const one = (i: number) => {
    const s = fr(fr(a * (v0[i] as number)) + fr(b * (v1[i] as number)));
    out[i] = f.divide === undefined ? s : s / f.divide;
  };
  if (idx) for (const i of idx) one(i);
  else for (let i = 0; i < v0.length; i++) one(i);
  return out;
}

export interface CombineRowsInput {
  readonly v0: Float32Array;
  readonly v1: Float32Array;
  /** Elements per row: row r is [r·row, (r + 1)·row) (less `first`). */
  readonly row: number;
  /** Per row a, b and the divisor (f32), four numbers a row: a, b, divide (1: none), 0. */
  readonly factors: Float32Array;
  /** Where element 0 lies in its row, factors[0]'s (0 but for a GPU tile handed back to the twin). */
  readonly first?: number;
}

/**
 * combine2 per row. A row without a divisor carries 1: s / 1 is s, bit for bit, so it equals
 * combine2 without one.
 */
export function combineRows(x: CombineRowsInput): Float32Array {
  const n = x.v0.length;
  const out = new Float32Array(n);
  for (let r = 0, start = -(x.first ?? 0); start < n; r++, start += x.row) {
    const a = x.factors[r * 4] as number;
    const b = x.factors[r * 4 + 1] as number;
    const divide = x.factors[r * 4 + 2] as number;
    const idx: number[] = [];
    for (let i = Math.max(0, start); i < Math.min(n, start + x.row); i++) idx.push(i);
    combine2({ a, b, divide }, x.v0, x.v1, out, idx);
  }
  return out;
}
