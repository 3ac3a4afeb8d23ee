// The streaming scheduler: walks the shared tensors in chunks small enough that the base and the
// N tasks' bytes for one chunk (and the next one, read ahead while this one computes) fit the
// memory budget. Chunks start on multiples of 32 elements so packed mask words never straddle two.
import { dtypeBytes } from '../formats/dtype';
import type { ChunkInput, RawChunk } from './engine';
import type { SharedTensor } from './model-set';

export const DEFAULT_BUDGET_BYTES = 256 * 2 ** 20;

export interface ChunkPlan {
  readonly tensor: SharedTensor;
  readonly tensorIndex: number;
  /** First element of the chunk within the tensor (a multiple of 32). */
  readonly start: number;
  readonly numel: number;
}

/** Bytes held per element of a chunk: raw inputs, their f32 widening, τ_uni / merged output, masks. */
export function bytesPerElement(numTasks: number): number {
  return (numTasks + 1) * (4 + 4) + 4 + numTasks / 8;
}

/**
 * Elements per chunk for a budget: `inFlight` chunks fit (two: the current one and the read-ahead;
 * three when the engine overlaps calls), rounded down to 32.
 */
export function chunkElements(numTasks: number, budgetBytes: number, inFlight = 2): number {
  const n = Math.floor(budgetBytes / inFlight / bytesPerElement(numTasks) / 32) * 32;
  return Math.max(32, n);
}

export function planChunks(
  shared: readonly SharedTensor[],
  numTasks: number,
  budgetBytes: number,
  inFlight = 2,
): ChunkPlan[] {
  const size = chunkElements(numTasks, budgetBytes, inFlight);
  const plan: ChunkPlan[] = [];
  shared.forEach((tensor, tensorIndex) => {
    for (let start = 0; start < tensor.numel; start += size) {
      plan.push({ tensor, tensorIndex, start, numel: Math.min(size, tensor.numel - start) });
    }
  });
  return plan;
}

export async function readChunk(plan: ChunkPlan): Promise<ChunkInput> {
  const read = async (e: SharedTensor['base']): Promise<RawChunk> => {
    const s = dtypeBytes(e.dtype);
    return { bytes: await e.data.read(plan.start * s, (plan.start + plan.numel) * s), dtype: e.dtype };
  };
  const [base, ...tasks] = await Promise.all([read(plan.tensor.base), ...plan.tensor.tasks.map(read)]);
  return { numel: plan.numel, base: base as RawChunk, tasks };
}

export function chunkBytes(input: ChunkInput): number {
  return input.base.bytes.byteLength + input.tasks.reduce((a, t) => a + t.bytes.byteLength, 0);
}

/** Yields each planned chunk with its bytes, reading the next one while the caller works on this one. */
export async function* streamChunks(
  plan: readonly ChunkPlan[],
  signal?: AbortSignal,
): AsyncGenerator<{ plan: ChunkPlan; input: ChunkInput }> {
  let next = plan.length ? readChunk(plan[0] as ChunkPlan) : undefined;
  for (let i = 0; i < plan.length; i++) {
    signal?.throwIfAborted();
    const input = await (next as Promise<ChunkInput>);
    next = i + 1 < plan.length ? readChunk(plan[i + 1] as ChunkPlan) : undefined;
    next?.catch(() => {}); // surfaced when awaited; do not let an early rejection go unhandled
    yield { plan: plan[i] as ChunkPlan, input };
  }
}
