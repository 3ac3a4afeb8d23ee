// One elect call on the kernels' memory as its caller laid it out — the engine-wide slots
// (./host.ts) or an arena (./arena.ts), on the calling thread or on a helper thread sharing it
// (../kernel-server.ts) — so a chunk's results do not depend on which path or thread ran it. Every
// chunk's sums start from zero and are added in chunk order by the caller: the same bits.
import { allFinite, lanesTotal, leastPositiveMeanSum, SUM_LANES } from '../kernels';

/** Bytes of a call's f64 partial sums (at ElectCall.A) for `numTasks` tasks. */
export const sumsBytes = (numTasks: number) => 2 * numTasks * SUM_LANES * 8;

/** The kernels' exports (./wasm-kernels.ts), bound to one memory (./host.ts kernelExports). */
export interface KernelExports {
  emr(
    words: number,
    n: number,
    B: number,
    T: number,
    S: number,
    U: number,
    M: number,
    W: number,
    A: number,
    least: number,
  ): number;
  reconstruct(words: number, B: number, U: number, M: number, lambda: number, O: number): void;
  nonFinite(P: number, vectors: number): number;
  popcount(P: number, words: number): number;
}

const leastCache = new Map<number, number>();

/** leastPositiveMeanSum(numTasks), computed once per task count. */
export function leastSum(numTasks: number): number {
  let least = leastCache.get(numTasks);
  if (least === undefined) leastCache.set(numTasks, (least = leastPositiveMeanSum(numTasks)));
  return least;
}

/** Byte offsets and sizes of one chunk in the arena (see KernelExports.emr). */
export interface ElectCall {
  readonly n: number;
  readonly words: number;
  readonly numTasks: number;
  readonly B: number;
  readonly T: number;
  readonly stride: number;
  readonly U: number;
  readonly M: number;
  readonly W: number;
  /** Where this thread's partial sums go (sumsBytes(N) bytes, each thread its own). */
  readonly A: number;
  /** Count each task's mask ones too (the arena's callers; the engine-wide path counts them later). */
  readonly countOnes?: boolean;
}

export interface ElectOut {
  /** Σ|τ_t| for the N tasks, then Σ|M_t ⊙ τ_uni|. */
  readonly sums: Float64Array<ArrayBuffer>;
  readonly conflicts: number;
  /** NaN/±∞ as read: the base's, then each task's. */
  readonly nonFinite: Uint32Array<ArrayBuffer>;
  /** Each task's mask ones over the chunk where the call asked for them (`countOnes`), else empty. */
  readonly maskOnes: Uint32Array<ArrayBuffer>;
}

export function electCall(x: KernelExports, buf: ArrayBufferLike, c: ElectCall): ElectOut {
  const { n, words, numTasks, B, T, stride } = c;
  const padded = words * 32;
  // The last chunk of a tensor ends inside a word: zeros after it change nothing (../kernels.ts).
  if (padded > n) {
    const mem = new Uint8Array(buf);
    mem.fill(0, B + n * 4, B + padded * 4);
    for (let t = 0; t < numTasks; t++) mem.fill(0, T + t * stride + n * 4, T + t * stride + padded * 4);
  }
  const acc = new Float64Array(buf, c.A, 2 * numTasks * SUM_LANES);
  acc.fill(0);
  const conflicts =
    n === 0 ? 0 : x.emr(words, numTasks, B, T, stride, c.U, c.M, c.W, c.A, leastSum(numTasks));
  // Each sum's partials added up as the JavaScript twin adds its own.
  const sums = Float64Array.from({ length: 2 * numTasks }, (_, k) => lanesTotal(acc, k * SUM_LANES));
  // A NaN/±∞ in task t or the base makes τ_t, so Σ|τ_t| (f64, where finite f32 never overflow)
  // non-finite: only then are the inputs, still in memory, counted.
  const nonFinite = new Uint32Array(1 + numTasks);
  if (n > 0 && (numTasks === 0 || !allFinite(sums.subarray(0, numTasks))))
    for (let m = 0; m <= numTasks; m++)
      nonFinite[m] = x.nonFinite(m === 0 ? B : T + (m - 1) * stride, words * 8);
  const maskOnes = new Uint32Array(c.countOnes ? numTasks : 0);
  if (n > 0 && c.countOnes) for (let t = 0; t < numTasks; t++) maskOnes[t] = x.popcount(c.M + t * c.W, words);
  return { sums, conflicts, nonFinite, maskOnes };
}
