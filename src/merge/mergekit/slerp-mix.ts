// The element-wise step shared by slerp, nuslerp and their lerp fallbacks: out = (a·v0 + b·v1),
// divided by `divide` when given — each product, the sum and the quotient rounded to f32, in this
// order (torch's and numpy's separate f32 ops; never fused). The factors come from a whole-vector
// pass (./slerp); this step is what a GPU program may run per element.

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
