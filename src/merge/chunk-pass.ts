// One streaming pass of a merge over its chunk plan: engine calls in chunk order, overlapped when
// the engine asks, with progress in stored bytes.
import { dtypeBytes } from '../formats/dtype';
import type { ChunkInput, EmrInputViews } from './engine';
import type { MergeOptions, MergeProgress } from './merge-result';
import { chunkBytes, streamChunks, type ChunkPlan } from './scheduler';

/**
 * Streams the plan's chunks through `run` (the engine call) and `apply` (folding its result in,
 * always in chunk order, so sums add in the same order whatever the timing). An engine that says
 * `overlap` gets chunk k+1's call issued before chunk k's result is applied — the GPU engine
 * uploads the next chunk while the current one computes; the plan is then cut for three chunks in
 * flight instead of two (planChunks' `inFlight`).
 */
export async function pass<R>(
  plan: readonly ChunkPlan[],
  phase: MergeProgress['phase'],
  options: MergeOptions,
  overlap: boolean,
  run: (p: ChunkPlan, input: ChunkInput) => Promise<R>,
  apply: (p: ChunkPlan, result: R) => void | Promise<void> = () => {},
  into?: (index: number, p: ChunkPlan) => EmrInputViews,
): Promise<number> {
  // Bytes as stored (a bf16 set reads 2 a parameter), so progress matches the files.
  const storedBytes = (p: ChunkPlan) =>
    p.numel * [p.tensor.base, ...p.tensor.tasks].reduce((a, e) => a + dtypeBytes(e.dtype), 0);
  const bytesTotal = plan.reduce((a, p) => a + storedBytes(p), 0);
  const tensorsTotal = new Set(plan.map((p) => p.tensorIndex)).size;
  let bytesDone = 0;
  let bytesRead = 0;
  let tensorsDone = 0;
  const finish = async (c: { plan: ChunkPlan; input: ChunkInput; result: Promise<R> }) => {
    await apply(c.plan, await c.result);
    bytesRead += chunkBytes(c.input);
    bytesDone += storedBytes(c.plan);
    if (c.plan.start + c.plan.numel === c.plan.tensor.numel) tensorsDone++;
    options.onProgress?.({ phase, bytesDone, bytesTotal, tensorsDone, tensorsTotal });
  };
  type InFlight = { plan: ChunkPlan; input: ChunkInput; result: Promise<R> };
  let previous: InFlight | undefined;
  let current: InFlight | undefined;
  try {
    for await (const { plan: p, input } of streamChunks(plan, options.signal, into)) {
      current = { plan: p, input, result: run(p, input) };
      current.result.catch(() => {}); // surfaced by finish; never an unhandled rejection meanwhile
      if (!overlap) await finish(current);
      else {
        if (previous) await finish(previous);
        previous = current;
      }
      current = undefined;
    }
    if (previous) await finish(previous);
  } catch (e) {
    // No engine call outlives the merge that made it.
    await Promise.allSettled([previous?.result, current?.result]);
    throw e;
  }
  return bytesRead;
}
