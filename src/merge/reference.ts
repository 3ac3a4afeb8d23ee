// A naive, all-in-memory implementation of the merge formulas, shaped like the papers' PyTorch
// reference code (whole tensors, a loop over tasks). It is the yardstick the streaming engines are
// tested against and the "naive" column of the benchmark — not used by the product.
const fr = Math.fround;

export interface ReferenceInput {
  /** Per shared tensor: the base values and each task's values, f32. */
  readonly tensors: readonly { readonly base: Float32Array; readonly tasks: readonly Float32Array[] }[];
}

export interface ReferenceEmr {
  readonly tauUni: Float32Array[];
  /** masks[tensor][task][i] ∈ {0, 1} */
  readonly masks: Uint8Array[][];
  readonly lambdas: number[];
}

function taskVectors(base: Float32Array, tasks: readonly Float32Array[]): Float32Array[] {
  return tasks.map((t) => t.map((x, i) => fr(x - (base[i] as number))));
}

const meanAbs = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] as number);
  return a.length ? s / a.length : 0;
};

export function referenceEmr(
  input: ReferenceInput,
  rescale: 'tensor-mean' | 'global' = 'tensor-mean',
): ReferenceEmr {
  const n = input.tensors[0]?.tasks.length ?? 0;
  const scales = new Array<number>(n).fill(0);
  const newScales = new Array<number>(n).fill(0);
  const tauUni: Float32Array[] = [];
  const masks: Uint8Array[][] = [];
  for (const { base, tasks } of input.tensors) {
    const tv = taskVectors(base, tasks);
    const size = base.length;
    // sum_param = stack(tv).mean(0); flag = (sum_param > 0) * 2 - 1
    const flag = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      let s = 0;
      for (const v of tv) s = fr(s + (v[i] as number));
      flag[i] = fr(s / n) > 0 ? 1 : -1;
    }
    const paramMax = new Float32Array(size);
    const tensorMasks = tv.map((v, m) => {
      const mask = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        mask[i] = (v[i] as number) * (flag[i] as number) > 0 ? 1 : 0;
        const a = Math.abs(mask[i] ? (v[i] as number) : 0);
        if (a > (paramMax[i] as number)) paramMax[i] = a;
      }
      scales[m] = (scales[m] as number) + (rescale === 'tensor-mean' ? meanAbs(v) : meanAbs(v) * size);
      return mask;
    });
    const uni = paramMax.map((x, i) => x * (flag[i] as number));
    tensorMasks.forEach((mask, m) => {
      const p = uni.map((x, i) => (mask[i] ? x : 0));
      newScales[m] = (newScales[m] as number) + (rescale === 'tensor-mean' ? meanAbs(p) : meanAbs(p) * size);
    });
    tauUni.push(uni);
    masks.push(tensorMasks);
  }
  const lambdas = scales.map((s, m) => ((newScales[m] as number) === 0 ? 1 : s / (newScales[m] as number)));
  return { tauUni, masks, lambdas };
}

export function referenceEmrTask(
  base: Float32Array,
  uni: Float32Array,
  mask: Uint8Array,
  lambda: number,
): Float32Array {
  const l = fr(lambda);
  return base.map((b, i) => (mask[i] ? fr(b + fr(l * (uni[i] as number))) : b));
}

export function referenceAverage(input: ReferenceInput): Float32Array[] {
  return input.tensors.map(({ tasks }) => {
    const out = new Float32Array(tasks[0]?.length ?? 0);
    for (let i = 0; i < out.length; i++) {
      let s = 0;
      for (const t of tasks) s = fr(s + (t[i] as number));
      out[i] = fr(s / tasks.length);
    }
    return out;
  });
}

export function referenceTaskArithmetic(input: ReferenceInput, lambda: number): Float32Array[] {
  const l = fr(lambda);
  return input.tensors.map(({ base, tasks }) => {
    const tv = taskVectors(base, tasks);
    return base.map((b, i) => {
      let s = 0;
      for (const v of tv) s = fr(s + (v[i] as number));
      return fr(b + fr(l * s));
    });
  });
}

/** TIES as in its reference: flatten, top-k by kthvalue, resolve_sign with "majority", disjoint mean. */
export function referenceTies(
  input: ReferenceInput,
  k: number,
  lambda: number,
): { merged: Float32Array[]; thresholds: number[] } {
  const sizes = input.tensors.map((t) => t.base.length);
  const d = sizes.reduce((a, b) => a + b, 0);
  const n = input.tensors[0]?.tasks.length ?? 0;
  const flatBase = new Float32Array(d);
  const flat = Array.from({ length: n }, () => new Float32Array(d));
  let at = 0;
  for (const { base, tasks } of input.tensors) {
    flatBase.set(base, at);
    taskVectors(base, tasks).forEach((v, m) => (flat[m] as Float32Array).set(v, at));
    at += base.length;
  }
  const rank = d - Math.floor(d * k);
  const thresholds = flat.map((v) => {
    if (rank < 1) return 0;
    const sorted = Float32Array.from(v, Math.abs).sort();
    return sorted[rank - 1] as number;
  });
  const trimmed = flat.map((v, m) => v.map((x) => (Math.abs(x) >= (thresholds[m] as number) ? x : 0)));
  const sign = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (const v of trimmed) s = fr(s + (v[i] as number));
    sign[i] = Math.sign(s);
  }
  const majority = Math.sign(sign.reduce((a, b) => a + b, 0));
  for (let i = 0; i < d; i++) if (sign[i] === 0) sign[i] = majority;
  const out = new Float32Array(d);
  const l = fr(lambda);
  for (let i = 0; i < d; i++) {
    let s = 0;
    let c = 0;
    for (const v of trimmed) {
      const x = v[i] as number;
      if ((sign[i] as number) > 0 ? x > 0 : x < 0) {
        s = fr(s + x);
        c++;
      }
    }
    out[i] = fr((flatBase[i] as number) + fr(l * fr(s / Math.max(c, 1))));
  }
  const merged: Float32Array[] = [];
  at = 0;
  for (const size of sizes) {
    merged.push(out.slice(at, at + size));
    at += size;
  }
  return { merged, thresholds };
}
