import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import type { ChunkInput } from '../merge/engine';
import { GpuEngine } from './engine';
import { testGpu } from './testing/gpu';

const cpu = new CpuEngine();
const raw = (v: number[]) => ({ bytes: new Uint8Array(new Float32Array(v).buffer), dtype: 'F32' as const });
const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)).map((x) => x.toString(16));

describe('explore', () => {
  const cases: Record<string, ChunkInput> = {
    subnormalTau: { numel: 3, base: raw([0, 1e-40, 0]), tasks: [raw([1e-40, 3e-40, -1e-41]), raw([2e-40, -1e-40, 1e-41])] },
    subnormalSum: { numel: 2, base: raw([1.5 * 2 ** -126, 0]), tasks: [raw([2 ** -126, 2 ** -149]), raw([2 ** -126, 0])] },
    infNan: { numel: 4, base: raw([Infinity, 0, Number.NaN, 1]), tasks: [raw([Infinity, Infinity, 1, 3e38]), raw([1, -Infinity, 2, 3e38])] },
    negZero: { numel: 3, base: raw([0, -0, 0]), tasks: [raw([-0, 0, -0]), raw([-0, -0, 0])] },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const gpu = new GpuEngine(await testGpu());
      const g = await gpu.emr(c);
      const k = await cpu.emr(c);
      console.log(name, { gTau: bitsOf(g.tauUni), cTau: bitsOf(k.tauUni), gM: Array.from(g.masks), cM: Array.from(k.masks), gS: [Array.from(g.sumAbsTau), Array.from(g.sumAbsMasked)], cS: [Array.from(k.sumAbsTau), Array.from(k.sumAbsMasked)], gc: g.conflicts, cc: k.conflicts });
      const ga = await gpu.average(c), ca = await cpu.average(c);
      const gt = await gpu.taskArithmetic(c, 0.3), ct = await cpu.taskArithmetic(c, 0.3);
      console.log(name, 'avg', bitsOf(ga), bitsOf(ca), 'ta', bitsOf(gt), bitsOf(ct));
      const gr = await gpu.emrReconstruct(c.base, k.tauUni, k.masks, 0, 1.7), cr = await cpu.emrReconstruct(c.base, k.tauUni, k.masks, 0, 1.7);
      console.log(name, 'rec', bitsOf(gr), bitsOf(cr));
      expect(1).toBe(1);
    });
  }
});
