// The EMR pipeline: one elect pass over the chunks into τ_uni and the packed masks (in memory or
// spilled), the per-tensor statistics, then each task's λ.
import type { TensorName } from '../formats/tensor';
import { pass } from './chunk-pass';
import { maskWords } from './cpu/kernels';
import type { EmrChunkOut, EmrInputViews, MergeEngine } from './engine';
import type { EmrArena, EmrChunkSums } from './emr-arena';
import { memoryValues, spillValues, valuesBytes, type EmrValuesWriter } from './emr-values';
import type { EmrResult, EmrTaskStats, MergeOptions } from './merge-result';
import type { MethodSpec } from './methods';
import type { ModelSet } from './model-set';
import { NonFiniteTally } from './non-finite';
import { canReadInto, DEFAULT_BUDGET_BYTES, type ChunkPlan } from './scheduler';

export async function mergeEmr(
  set: ModelSet,
  spec: Extract<MethodSpec, { method: 'emr' }>,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  options: MergeOptions,
  overlap: boolean,
): Promise<EmrResult> {
  const numTasks = set.tasks.length;
  const stats = set.shared.map((s) => ({
    name: s.name,
    numel: s.numel,
    conflicts: 0,
    maskOnes: new Array<number>(numTasks).fill(0),
    sumAbsTau: new Array<number>(numTasks).fill(0),
    sumAbsMasked: new Array<number>(numTasks).fill(0),
  }));
  const nonFinite = new NonFiniteTally(set);
  const wholeBytes = valuesBytes(set.shared, numTasks);
  let spill: EmrValuesWriter | undefined;
  if (options.spill && wholeBytes > options.spill.overBytes)
    spill = spillValues(await options.spill.open(wholeBytes), set.shared, numTasks);
  const arena = spill ? undefined : arenaFor(set, engine, plan, overlap, options.budgetBytes);
  const tauUni: ReadonlyMap<TensorName, Float32Array> = arena?.tauUni ?? new Map();
  const masks: ReadonlyMap<TensorName, Uint32Array> = arena?.masks ?? new Map();
  if (!spill && !arena)
    for (const s of set.shared) {
      (tauUni as Map<TensorName, Float32Array>).set(s.name, new Float32Array(s.numel));
      (masks as Map<TensorName, Uint32Array>).set(s.name, new Uint32Array(numTasks * maskWords(s.numel)));
    }
  const range = (p: ChunkPlan) => ({ name: p.tensor.name, start: p.start, numel: p.numel });

  // With two lanes (a helper thread), chunk k+1 computes while chunk k does: three slots in turn.
  const lanes = arena?.lanes ?? 1;
  const into = arena
    ? (index: number, p: ChunkPlan) => arena.inputs(index % (lanes + 1), range(p))
    : directInputs(set, engine, plan, overlap);
  // Chunks alternate lanes once the helper is up, so two lanes take them largest first: neighbours
  // are of a size and neither lane waits long on the other. A tensor's own chunks keep their order
  // (a stable sort; only its last is smaller), and its sums are its own: the result is the same bits.
  const order = lanes === 2 ? [...plan].sort((a, b) => b.numel - a.numel) : plan;
  let bytesRead: number;
  try {
    bytesRead = await pass<EmrChunkOut | EmrChunkSums>(
      order,
      'merge',
      options,
      overlap || lanes === 2,
      async (p, input) =>
        arena
          ? arena.elect(range(p), { base: input.base.bytes, tasks: input.tasks.map((c) => c.bytes) })
          : engine.emr(input),
      async (p, r) => {
        const tensorWords = maskWords(p.tensor.numel);
        const chunkWords = maskWords(p.numel);
        const st = stats[p.tensorIndex] as (typeof stats)[number];
        st.conflicts += r.conflicts;
        nonFinite.add(p.tensorIndex, r.nonFinite);
        // In the arena the chunk's masks are already where the result keeps them.
        const inPlace = !('masks' in r);
        const all = masks.get(p.tensor.name) as Uint32Array;
        for (let t = 0; t < numTasks; t++) {
          const at = inPlace ? t * tensorWords + p.start / 32 : t * chunkWords;
          const words = (inPlace ? all : (r as EmrChunkOut).masks).subarray(at, at + chunkWords);
          // In the arena the kernel counted them, on the thread that elected the chunk.
          const ones = inPlace ? ((r as EmrChunkSums).maskOnes[t] as number) : popcount(words);
          st.maskOnes[t] = (st.maskOnes[t] as number) + ones;
          st.sumAbsTau[t] = (st.sumAbsTau[t] as number) + (r.sumAbsTau[t] as number);
          st.sumAbsMasked[t] = (st.sumAbsMasked[t] as number) + (r.sumAbsMasked[t] as number);
        }
        if (inPlace) return;
        const out = r as EmrChunkOut;
        if (spill) return spill.put(p.tensor.name, p.start, out.tauUni, out.masks);
        (tauUni.get(p.tensor.name) as Float32Array).set(out.tauUni, p.start);
        for (let t = 0; t < numTasks; t++)
          all.set(out.masks.subarray(t * chunkWords, (t + 1) * chunkWords), t * tensorWords + p.start / 32);
      },
      into,
    );
  } catch (e) {
    await spill?.abort().catch(() => {});
    throw e;
  } finally {
    await arena?.release().catch(() => {});
  }
  const values = spill ? await spill.done() : { ...memoryValues(tauUni, masks), ...(arena ? { arena } : {}) };

  const sharedParameters = set.report.sharedParameters;
  const tasks: EmrTaskStats[] = set.tasks.map((task, t) => {
    let numerator = 0;
    let denominator = 0;
    let ones = 0;
    for (const st of stats) {
      const a = st.sumAbsTau[t] as number;
      const m = st.sumAbsMasked[t] as number;
      // tensor-mean: Σ_tensors mean(|τ_t|) / Σ_tensors mean(|M_t⊙τ_uni|), as the reference does.
      numerator += spec.rescale === 'tensor-mean' ? (st.numel ? a / st.numel : 0) : a;
      denominator += spec.rescale === 'tensor-mean' ? (st.numel ? m / st.numel : 0) : m;
      ones += st.maskOnes[t] as number;
    }
    const lambdaDefaulted = denominator === 0;
    return {
      task: task.name,
      lambda: lambdaDefaulted ? 1 : numerator / denominator,
      numerator,
      denominator,
      lambdaDefaulted,
      density: sharedParameters ? ones / sharedParameters : 0,
    };
  });
  return {
    spec,
    set,
    values,
    tauUni,
    masks,
    lambdas: tasks.map((t) => t.lambda),
    tasks,
    tensors: stats,
    bytesRead,
    nonFinite: nonFinite.report(),
  };
}

/**
 * The engine's arena (./emr-arena.ts), where every input is F32 read in place, the values stay in
 * memory and the base, kept there for the task models, fits the budget (the most that
 * task-model.ts's base cache would keep).
 */
function arenaFor(
  set: ModelSet,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  overlap: boolean,
  budgetBytes = DEFAULT_BUDGET_BYTES,
): EmrArena | undefined {
  if (overlap || !engine.emrArena || !canReadInto(set.shared)) return undefined;
  if (set.shared.reduce((a, s) => a + s.numel * 4, 0) > budgetBytes) return undefined;
  const maxNumel = plan.reduce((m, p) => Math.max(m, p.numel), 0);
  return engine.emrArena(set.shared, set.tasks.length, maxNumel);
}

/**
 * Reads straight into the engine's memory, two slots in turn, when it offers them (the CPU engine's
 * WebAssembly kernels) and every input is F32 read in place (the CLI's files): no copy into the
 * kernels, and no fresh array per read for the garbage collector. Not with an engine that overlaps
 * calls (three chunks in flight would need three slots).
 */
function directInputs(
  set: ModelSet,
  engine: MergeEngine,
  plan: readonly ChunkPlan[],
  overlap: boolean,
): ((index: number, p: ChunkPlan) => EmrInputViews) | undefined {
  const first = plan[0];
  if (overlap || !first || !engine.emrInputs || !canReadInto(set.shared)) return undefined;
  const maxNumel = plan.reduce((m, p) => Math.max(m, p.numel), 0);
  const numTasks = set.tasks.length;
  if (!engine.emrInputs(0, first.numel, maxNumel, numTasks)) return undefined;
  return (index, p) => engine.emrInputs?.((index % 2) as 0 | 1, p.numel, maxNumel, numTasks) as EmrInputViews;
}

// An indexed loop: `for (let w of words)` with w reassigned ran 8× slower in V8 (68 ms of a 1.9 s
// CLI merge in a profile; docs/benchmarks.md).
function popcount(words: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    let w = words[i] as number;
    w = w - ((w >>> 1) & 0x55555555);
    w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
    n += (Math.imul((w + (w >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
  }
  return n;
}
