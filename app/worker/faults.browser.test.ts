// Plan: a CPU kernel worker that dies mid-merge (as an out-of-memory kill does) in real Chromium.
// The merge goes on on the studio worker's own thread from the chunk that failed and ends with
// the same λ as an undisturbed merge, saying so; the next merge starts fresh workers and works.
// Likewise a GPU device lost, and a GPU allocation refused (a buffer past maxBufferSize, caught by
// the engine's error scopes): the merge finishes on the CPU with the CPU merge's λ and export bytes.
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors';
import { MemorySink } from '../../src/formats/sink';
import { methodSpec } from '../../src/merge/methods';
import { crashNextKernelCall, loseNextGpuDevice, refuseNextGpuAllocation } from './engine-choice';
import { StudioService } from './service';

/** A model with one tensor large enough to be split over the CPU workers (≥ 65 536 elements). */
async function model(seed: number): Promise<Blob> {
  let s = seed + 1;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31 - 0.5);
  const values = Float32Array.from(
    { length: 1 << 18 },
    (_, i) => Math.sin(i) * 0.1 + (seed ? rand() * 0.01 : 0),
  );
  const sink = new MemorySink();
  await writeSafetensors(sink, [
    { name: 'w', dtype: 'F32', shape: [512, 512], bytes: new Uint8Array(values.buffer) },
  ]);
  return new Blob([sink.bytes()]);
}

describe('a CPU worker that dies mid-merge', () => {
  // Task Arithmetic spreads every large chunk over the workers (EMR stays on this thread when
  // WebAssembly SIMD is there): the crash lands in a worker for sure.
  it('hands the rest of the merge to this thread, with the same result', async () => {
    expect(navigator.hardwareConcurrency).toBeGreaterThanOrEqual(2); // else there are no workers to crash
    const service = new StudioService();
    for (const [i, id] of ['base', 'a', 'b', 'c'].entries())
      expect((await service.open(id, { path: `${id}.safetensors`, file: await model(i) }, [])).ok).toBe(true);
    const selection = { baseId: 'base', tasks: ['a', 'b', 'c'].map((id) => ({ id, name: id })) };
    const merge = async () => {
      const outcome = await service.merge(selection, methodSpec('ta'), 'cpu', () => {});
      if (!outcome.ok) throw new Error(outcome.message);
      const exported = await service.export({ kind: 'task', task: 1 }, { kind: 'blob' });
      if (!exported.ok || !exported.blob) throw new Error('no export');
      return { engine: outcome.summary.engine, bytes: new Uint8Array(await exported.blob.arrayBuffer()) };
    };

    const calm = await merge();
    expect(calm.engine).toMatch(/^CPU \(.*\d+ workers\)$/);
    crashNextKernelCall();
    const crashed = await merge();
    expect(crashed.engine).toMatch(/\(after CPU \(.*\d+ workers\) failed: a CPU worker stopped/);
    expect(crashed.bytes).toEqual(calm.bytes);
    const again = await merge();
    expect(again.engine).toMatch(/^CPU \(.*\d+ workers\)$/);
    expect(again.bytes).toEqual(calm.bytes);
  });
});

describe('a GPU device lost mid-merge in the studio', () => {
  it('finishes on the CPU with the CPU merge’s result, and says so', async () => {
    const service = new StudioService();
    for (const [i, id] of ['base', 'a', 'b', 'c'].entries())
      expect((await service.open(id, { path: `${id}.safetensors`, file: await model(i) }, [])).ok).toBe(true);
    const selection = { baseId: 'base', tasks: ['a', 'b', 'c'].map((id) => ({ id, name: id })) };
    const cpu = await service.merge(selection, methodSpec('emr'), 'cpu', () => {});
    if (!cpu.ok) throw new Error(cpu.message);
    loseNextGpuDevice();
    const lost = await service.merge(selection, methodSpec('emr'), 'gpu', () => {});
    if (!lost.ok) throw new Error(lost.message);
    expect(lost.summary.engine).toMatch(/^CPU .*\(after GPU: .* failed: /);
    expect(lost.summary.tasks.map((t) => t.lambda)).toEqual(cpu.summary.tasks.map((t) => t.lambda));
    const again = await service.merge(selection, methodSpec('emr'), 'gpu', () => {});
    if (!again.ok) throw new Error(again.message);
    expect(again.summary.engine).toMatch(/^GPU: /);
    // The GPU adds its per-workgroup sums in another order: λ within 1e-6 relative
    // (docs/architecture.md#engines).
    again.summary.tasks.forEach((t, i) => {
      const want = cpu.summary.tasks[i]?.lambda as number;
      expect(Math.abs(t.lambda - want) / want).toBeLessThan(1e-6);
    });
  });
});

describe('a GPU allocation refused in the studio', () => {
  it('finishes on the CPU with the CPU merge’s λ and bytes, and says why', async () => {
    const service = new StudioService();
    for (const [i, id] of ['base', 'a', 'b', 'c'].entries())
      expect((await service.open(id, { path: `${id}.safetensors`, file: await model(i) }, [])).ok).toBe(true);
    const selection = { baseId: 'base', tasks: ['a', 'b', 'c'].map((id) => ({ id, name: id })) };
    const exported = async () => {
      const e = await service.export({ kind: 'task', task: 2 }, { kind: 'blob' });
      if (!e.ok || !e.blob) throw new Error('no export');
      return new Uint8Array(await e.blob.arrayBuffer());
    };
    const cpu = await service.merge(selection, methodSpec('emr'), 'cpu', () => {});
    if (!cpu.ok) throw new Error(cpu.message);
    const cpuBytes = await exported();
    refuseNextGpuAllocation();
    const refused = await service.merge(selection, methodSpec('emr'), 'gpu', () => {});
    if (!refused.ok) throw new Error(refused.message);
    expect(refused.summary.engine).toMatch(
      /^CPU .*\(after GPU: .* failed: the GPU could not allocate buffer .*: request refused/,
    );
    expect(refused.summary.tasks.map((t) => t.lambda)).toEqual(cpu.summary.tasks.map((t) => t.lambda));
    expect(await exported()).toEqual(cpuBytes);
    const again = await service.merge(selection, methodSpec('emr'), 'gpu', () => {});
    if (!again.ok) throw new Error(again.message);
    expect(again.summary.engine).toMatch(/^GPU: /);
  });
});
