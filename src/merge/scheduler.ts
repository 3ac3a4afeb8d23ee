// The streaming scheduler: walks the shared tensors in chunks small enough that the base and the
// N tasks' bytes for one chunk (and the next one, read ahead while this one computes) fit the
// memory budget. Chunks start on multiples of 32 elements so packed mask words never straddle two.
import { dtypeBytes } from '../formats/dtype';
import type { ChunkInput, EmrInputViews, RawChunk } from './engine';
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

export async function readChunk(plan: ChunkPlan, into?: EmrInputViews): Promise<ChunkInput> {
  const entries = [plan.tensor.base, ...plan.tensor.tasks];
  if (into) {
    // Straight into the engine's memory (every entry is F32 with readInto: see canReadInto).
    const targets = [into.base, ...into.tasks];
    const bytes = (e: SharedTensor['base']) => dtypeBytes(e.dtype);
    await Promise.all(
      entries.map((e, i) =>
        (e.data.readInto as NonNullable<typeof e.data.readInto>)(
          plan.start * bytes(e),
          (plan.start + plan.numel) * bytes(e),
          targets[i] as Uint8Array,
        ),
      ),
    );
    return {
      numel: plan.numel,
      base: { bytes: into.base, dtype: plan.tensor.base.dtype },
      tasks: into.tasks.map((b, t) => ({ bytes: b, dtype: plan.tensor.tasks[t]?.dtype ?? 'F32' })),
    };
  }
  const read = async (e: SharedTensor['base']): Promise<RawChunk> => {
    const s = dtypeBytes(e.dtype);
    return { bytes: await e.data.read(plan.start * s, (plan.start + plan.numel) * s), dtype: e.dtype };
  };
  const [base, ...tasks] = await Promise.all(entries.map(read));
  return { numel: plan.numel, base: base as RawChunk, tasks };
}

/** Whether every input of the set is F32 that its source reads in place (the CLI's files). */
export function canReadInto(shared: readonly SharedTensor[]): boolean {
  return shared.every((s) => [s.base, ...s.tasks].every((e) => e.dtype === 'F32' && e.data.readInto));
}

export function chunkBytes(input: ChunkInput): number {
  return input.base.bytes.byteLength + input.tasks.reduce((a, t) => a + t.bytes.byteLength, 0);
}

/**
 * Yields each planned chunk with its bytes, reading the next one while the caller works on this one.
 * `into(i)` gives the engine memory chunk i is read into (two slots used in turn). No read outlives
 * the stream: on an early exit the one in flight is awaited, as it may be filling engine memory.
 */
export async function* streamChunks(
  plan: readonly ChunkPlan[],
  signal?: AbortSignal,
  into?: (index: number, p: ChunkPlan) => EmrInputViews,
): AsyncGenerator<{ plan: ChunkPlan; input: ChunkInput }> {
  const start = (i: number) => readChunk(plan[i] as ChunkPlan, into?.(i, plan[i] as ChunkPlan));
  let next = plan.length ? start(0) : undefined;
  try {
    for (let i = 0; i < plan.length; i++) {
      signal?.throwIfAborted();
      const input = await (next as Promise<ChunkInput>);
      next = i + 1 < plan.length ? start(i + 1) : undefined;
      next?.catch(() => {}); // surfaced when awaited; do not let an early rejection go unhandled
      yield { plan: plan[i] as ChunkPlan, input };
    }
  } finally {
    await next?.catch(() => {});
  }
}
