// The LoRA kernel: an adapted weight's values W + s·B·A over a range of its elements, in one f32
// arithmetic that the CPU twin here and the WGSL kernel (src/gpu/lora.ts) share bit for bit:
//   p_k = B[i][k] ⊗ A[k][j],  acc = ((p_0 ⊕ p_1) ⊕ …) ⊕ p_{r-1},  out = W[i][j] ⊕ (s ⊗ acc)
// where ⊗ and ⊕ are f32 operations rounded to nearest even, s is rounded to f32 first, and the sum
// starts from p_0 (not from 0, whose sign a compiler may drop). With fan_in_fan_out the stored
// weight is (in, out), so element (i, j) takes B·A's (j, i).
// Where the deltas run is the caller's choice: `cpuLoraKernel`, a GPU kernel, or a
// `SwitchingLoraKernel` that starts on the CPU, moves to the GPU once the merge has one, and comes
// back to the CPU (same bytes) if the GPU fails.

/** One adapted weight's factors, widened to f32. Kernels may cache per object (the GPU uploads once). */
export interface LoraFactors {
  /** The weight's name, for messages. */
  readonly name: string;
  /** lora_A: r × in, row-major. */
  readonly a: Float32Array;
  /** lora_B: out × r, row-major (out and in as the module sees them: swapped with fan_in_fan_out). */
  readonly b: Float32Array;
  readonly r: number;
  /** Elements per row of the stored weight (the product of its shape after the first dimension). */
  readonly cols: number;
  /** lora_alpha / r (or / √r); the kernels use it rounded to f32. */
  readonly scale: number;
  /** The stored weight is (in, out): element (i, j) is W[i][j] + s·(B·A)[j][i]. */
  readonly fanInFanOut: boolean;
}

export interface LoraKernel {
  /** Where the deltas run now. */
  readonly kind: 'cpu' | 'gpu';
  readonly description: string;
  /**
   * W + s·B·A for elements [first, first + w.length) of the weight (row-major flat indices), given
   * the base's values there; `first` need not start a row.
   */
  adapt(factors: LoraFactors, w: Float32Array, first: number): Promise<Float32Array>;
  /** Frees what the kernel holds (GPU buffers, a device of its own). */
  dispose(): void;
}

/**
 * The CPU twin: W + s·B·A for elements [first, first + w.length) of a weight with `cols` columns,
 * in the arithmetic above (each Math.fround of an f64 sum or product of two f32 is the correctly
 * rounded f32 result).
 */
export function loraDelta(
  w: Float32Array,
  first: number,
  cols: number,
  a: Float32Array,
  b: Float32Array,
  r: number,
  scale: number,
  fanInFanOut: boolean,
): Float32Array {
  const out = new Float32Array(w.length);
  const aCols = r ? a.length / r : 0;
  const s = Math.fround(scale);
  // (row, col) of the stored weight, stepped along the range (no division per element).
  let row = Math.floor(first / cols);
  let col = first - row * cols;
  for (let e = 0; e < w.length; e++) {
    const i = fanInFanOut ? col : row;
    const j = fanInFanOut ? row : col;
    let acc = r ? Math.fround((b[i * r] as number) * (a[j] as number)) : 0;
    for (let k = 1; k < r; k++)
      acc = Math.fround(acc + Math.fround((b[i * r + k] as number) * (a[k * aCols + j] as number)));
    out[e] = Math.fround((w[e] as number) + Math.fround(s * acc));
    if (++col === cols) {
      col = 0;
      row++;
    }
  }
  return out;
}

/** The CPU twin as a kernel. */
export const cpuLoraKernel: LoraKernel = {
  kind: 'cpu',
  description: 'CPU',
  adapt: (f, w, first) => Promise.resolve(loraDelta(w, first, f.cols, f.a, f.b, f.r, f.scale, f.fanInFanOut)),
  dispose: () => {},
};

/**
 * Deltas on the CPU twin until `use` hands it another kernel (the GPU one, once the merge's engine
 * is the GPU); if that kernel fails (a lost device), the call that failed and every later one run
 * on the CPU twin, with the same bytes, and `onFallBack` is told once. `dispose` frees the other
 * kernel and returns to the CPU, so reads after a merge still work.
 */
export class SwitchingLoraKernel implements LoraKernel {
  private current: LoraKernel = cpuLoraKernel;
  private failed: string | undefined;

  constructor(private readonly onFallBack: (reason: string) => void = () => {}) {}

  get kind(): 'cpu' | 'gpu' {
    return this.current.kind;
  }

  get description(): string {
    return this.failed === undefined
      ? this.current.description
      : `${this.current.description} (after the GPU failed: ${this.failed})`;
  }

  /** Why the other kernel was left, if it was. */
  get fellBack(): string | undefined {
    return this.failed;
  }

  use(kernel: LoraKernel): void {
    if (this.current !== cpuLoraKernel) this.current.dispose();
    this.current = kernel;
    this.failed = undefined;
  }

  async adapt(factors: LoraFactors, w: Float32Array, first: number): Promise<Float32Array> {
    const kernel = this.current;
    if (kernel !== cpuLoraKernel) {
      try {
        return await kernel.adapt(factors, w, first);
      } catch (e) {
        // Calls in flight together may all fail: one notice, one switch.
        if (this.current === kernel) {
          this.failed = e instanceof Error ? e.message || e.name : String(e);
          this.current = cpuLoraKernel;
          kernel.dispose();
          this.onFallBack(this.failed);
        }
      }
    }
    return cpuLoraKernel.adapt(factors, w, first);
  }

  dispose(): void {
    const kernel = this.current;
    this.current = cpuLoraKernel;
    if (kernel !== cpuLoraKernel) kernel.dispose();
  }
}
