// One elect call on an arena's memory (./arena.ts): the same steps on the calling thread and on a
// helper thread that shares the memory (../kernel-server.ts), so a chunk's results do not depend
// on which thread ran it. Every chunk's sums start from zero and are added in chunk order by the
// caller, as on one thread: the rescalers come out the same bits.
import { allFinite } from '../kernels';
import { leastSum, type KernelExports } from './host';

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
  /** Where this thread's 2N f64 sums go (each thread its own). */
  readonly A: number;
}

export interface ElectOut {
  /** Σ|τ_t| for the N tasks, then Σ|M_t ⊙ τ_uni|. */
  readonly sums: Float64Array;
  readonly conflicts: number;
  /** NaN/±∞ as read: the base's, then each task's. */
  readonly nonFinite: Uint32Array;
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
  const acc = new Float64Array(buf, c.A, 2 * numTasks);
  acc.fill(0);
  const conflicts =
    n === 0 ? 0 : x.emr(words, numTasks, B, T, stride, c.U, c.M, c.W, c.A, leastSum(numTasks));
  const sums = acc.slice();
  // As the copying path (./host.ts): the inputs are counted only when a sum came out non-finite.
  const nonFinite = new Uint32Array(1 + numTasks);
  if (n > 0 && !allFinite(sums.subarray(0, numTasks)))
    for (let m = 0; m <= numTasks; m++)
      nonFinite[m] = x.nonFinite(m === 0 ? B : T + (m - 1) * stride, words * 8);
  return { sums, conflicts, nonFinite };
}
