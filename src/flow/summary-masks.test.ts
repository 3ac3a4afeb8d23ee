// Plan: Inspect's heatmap reads, for every mask method, a density per shared tensor and task from
// the one summary — TALL masks: the task's own mask; Consensus: the one mask every task shares (rows
// equal); T-Switch: the task's keep bits. Checked against masks counted by hand on a tiny set (base
// 0, small integers: every |τ| comparison exact), then on the per-task engine tests' fixture set
// (src/merge/pertask/__fixtures__/pertask.json) against a bit-by-bit count of the result's own
// masks, from the merge and from its artefact read back. The tasks table's number (perTask.density,
// the merge's own count) equals the heatmap's size-weighted mean. No election: conflicts stay NaN.
import { describe, expect, it } from 'vitest';
import pertaskFixture from '../merge/pertask/__fixtures__/pertask.json' with { type: 'json' };
import { openSafetensors } from '../formats/safetensors';
import { MemorySink } from '../formats/sink';
import { bytesSource } from '../formats/source';
import { CpuEngine } from '../merge/cpu/engine';
import { runMerge } from '../merge/merge';
import { openPerTaskArtefact, writePerTaskArtefact } from '../merge/pertask/artefact';
import { isPerTaskResult, type PerTaskResult } from '../merge/pertask/result';
import { perTaskSpec, type PerTaskMethod } from '../merge/pertask/spec';
import { makeSet, type Layer } from '../merge/testing/engine-suite';
import { mergeSummary, type MergeSummary } from './summary';

const ctx = { id: 1, engine: 'cpu', seconds: 0, source: 'merge' as const, shardBytes: 1e9 };
const engine = new CpuEngine();

// τ = the task's values (the base is 0).
const HAND: Layer[] = [
  {
    name: 'w',
    shape: [2, 4],
    base: new Float32Array(8),
    tasks: [Float32Array.of(1, 0, 2, -1, 3, 0, 0, 1), Float32Array.of(1, 1, -2, 0, 0, 0, 2, 1)],
  },
  {
    name: 'v',
    shape: [4],
    base: new Float32Array(4),
    tasks: [Float32Array.of(1, -1, 0, 2), new Float32Array(4)],
  },
];

async function summarize(method: PerTaskMethod, params: Record<string, unknown>): Promise<MergeSummary> {
  const result = await runMerge(makeSet(HAND, 2), perTaskSpec(method, params), engine);
  return mergeSummary(result, ctx);
}

const densities = (s: MergeSummary) => Object.fromEntries(s.tensors.map((t) => [t.name, t.density]));

describe('mask densities per tensor and task for the per-task methods', () => {
  it('TALL masks: each task’s own mask, m_t = |τ_t| > λ_t·|τ_MTL − τ_t| (λ = [0.5, 1])', async () => {
    // w, task 0: |τ₀| > 0.5·|τ₁| at 0, 2, 3, 4, 7 → 5 of 8; task 1: |τ₁| > |τ₀| at 1, 6 → 2 of 8.
    // v, task 0: |τ₀| > 0 at 0, 1, 3 → 3 of 4; task 1 (τ = 0): none.
    const s = await summarize('tall_mask', { lambda: [0.5, 1] });
    expect(densities(s)).toEqual({ w: [5 / 8, 2 / 8], v: [3 / 4, 0] });
    expect(s.tasks.map((t) => t.density)).toEqual([8 / 12, 2 / 12]);
    expect(s.tasks.map((t) => t.perTask?.density)).toEqual([8 / 12, 2 / 12]);
    expect(s.tensors.every((t) => Number.isNaN(t.conflictRate))).toBe(true);
  });

  it('Consensus: the one mask kept by k = 2 tasks’ TALL masks (λ = 0.5), the same for every task', async () => {
    // w: task 0's mask {0, 2, 3, 4, 7}, task 1's |τ₁| > 0.5·|τ₀| {0, 1, 2, 6, 7}: both at 0, 2, 7.
    // v: task 1's mask is empty, so the consensus is.
    const s = await summarize('consensus_ta', { k: 2, tall_lambda: 0.5 });
    expect(densities(s)).toEqual({ w: [3 / 8, 3 / 8], v: [0, 0] });
    expect(s.tasks.map((t) => [t.density, t.perTask?.density])).toEqual([
      [3 / 12, 3 / 12],
      [3 / 12, 3 / 12],
    ]);
    expect(s.tensors.every((t) => Number.isNaN(t.conflictRate))).toBe(true);
  });

  it('T-Switch: each task’s keep bits (drop ratio 0.5; ties at the threshold kept)', async () => {
    // w, task 0: positives 1, 2, 3, 1 keep int(4·0.5) = 2 (≥ 2: 2, 3); the one negative keeps all
    // (int(0.5) = 0) → 3 of 8. Task 1: positives 1, 1, 1, 2 keep ≥ 1 (ties): 4, and −2 → 5 of 8.
    // v, task 0: positives 1, 2 keep 1 (the 2), the negative kept → 2 of 4; task 1 (τ = 0): none.
    const s = await summarize('t_switch', { drop_ratio: 0.5 });
    expect(densities(s)).toEqual({ w: [3 / 8, 5 / 8], v: [2 / 4, 0] });
    expect(s.tasks.map((t) => [t.density, t.perTask?.density])).toEqual([
      [5 / 12, 5 / 12],
      [5 / 12, 5 / 12],
    ]);
    expect(s.tensors.every((t) => Number.isNaN(t.conflictRate))).toBe(true);
  });

  it('TSV-C keeps no mask: no densities, its low-rank view instead', async () => {
    const s = await summarize('tsv_c', {});
    expect(s.tensors.map((t) => t.density)).toEqual([[], []]);
    expect(s.tensors.find((t) => t.name === 'w')?.lowRank?.rank).toBe(1);
    expect(s.tasks.every((t) => Number.isNaN(t.density))).toBe(true);
  });
});

interface Fixture {
  shapes: Record<string, number[]>;
  sets: { F32: { base: Record<string, number[]>; tasks: Record<string, number[]>[] } };
  cases: { dtype: string; method: PerTaskMethod; params: Record<string, unknown> }[];
}

const fixture = pertaskFixture as unknown as Fixture;
const f32 = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

/** Ones of the mask task t uses, one bit at a time (not the summary's popcount). */
function bitCount(r: PerTaskResult, name: string, numel: number, t: number): number {
  const m = r.modulator;
  if (m.kind === 'lowrank') throw new Error('no mask');
  const words = m.kind === 'masked' ? m.masks.get(name as never) : m.keep.get(name as never);
  const at = Math.ceil(numel / 32) * (m.kind === 'masked' ? (m.maskOf[t] as number) : t);
  let n = 0;
  for (let i = 0; i < numel; i++) n += ((words?.[at + (i >> 5)] as number) >>> (i & 31)) & 1;
  return n;
}

describe('on the per-task fixture set (zeros, ties, a 0-dim tensor, sizes around a mask word)', () => {
  const data = fixture.sets.F32;
  const layers: Layer[] = Object.entries(fixture.shapes).map(([name, shape]) => ({
    name,
    shape,
    base: f32(data.base[name] as number[]),
    tasks: data.tasks.map((t) => f32(t[name] as number[])),
  }));
  for (const c of fixture.cases.filter((k) => k.dtype === 'F32' && k.method !== 'tsv_c'))
    it(`${c.method} ${JSON.stringify(c.params)}: the masks’ ones, from the merge and its artefact`, async () => {
      const set = makeSet(layers, data.tasks.length, { heads: true });
      const result = await runMerge(set, perTaskSpec(c.method, c.params), engine);
      if (!isPerTaskResult(result)) throw new Error('a per-task result');
      const sink = new MemorySink('artefact.safetensors');
      await writePerTaskArtefact(result, sink);
      const back = await openPerTaskArtefact(
        await openSafetensors(bytesSource(sink.bytes(), 'artefact.safetensors')),
        set.base,
      );
      for (const r of [result, back]) {
        const s = await mergeSummary(r, { ...ctx, source: r === back ? 'bundle' : 'merge' });
        for (const x of s.tensors)
          expect(x.density.map((d) => d * x.numel)).toEqual(
            set.tasks.map((_, t) => bitCount(r, x.name, x.numel, t)),
          );
        const numel = s.tensors.reduce((a, x) => a + x.numel, 0);
        s.tasks.forEach((task, t) => {
          const weighted = s.tensors.reduce((a, x) => a + (x.density[t] as number) * x.numel, 0) / numel;
          expect(task.density).toBeCloseTo(weighted, 12);
          // the tasks table's number: the merge's own count (or the artefact's copy of it)
          expect(task.perTask?.density).toBeCloseTo(weighted, 12);
        });
      }
    });
});
