// Plan: a GPU device lost in the middle of a merge (destroyed after some chunks are done), or an
// allocation the device refuses there (a buffer past maxBufferSize, caught by the error scopes; an
// out-of-memory verdict, simulated), does not lose the merge: it finishes on the CPU engine from
// the chunk that failed, with the same masks, τ_uni, λ and NaN/±∞ counts as a CPU merge, and the
// engine says it fell back and why. Every method.
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../merge/cpu/engine';
import { FallbackEngine } from '../merge/fallback';
import { runMerge, type EmrResult, type MergedResult } from '../merge/merge';
import { methodSpec } from '../merge/methods';
import { buildModelSet } from '../merge/model-set';
import { memoryCheckpoint } from '../merge/testing/memory-checkpoint';
import { acquireGpu } from './device';
import { GpuAllocationError, GpuEngine } from './engine';
import { allocationFaults } from './testing/faults';

function set() {
  const values = (n: number, seed: number, scale: number) => {
    let s = seed;
    return Float32Array.from(
      { length: n },
      () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
    );
  };
  const shapes = [[64, 40], [3000], [31]];
  const base = memoryCheckpoint(
    'base',
    shapes.map((shape, i) => ({
      name: `w${i}`,
      dtype: 'F32' as const,
      shape,
      values: values(
        shape.reduce((a, b) => a * b, 1),
        i + 1,
        1,
      ),
    })),
  );
  const tasks = [1, 2, 3].map((t) => ({
    name: `t${t}`,
    checkpoint: memoryCheckpoint(
      `t${t}`,
      shapes.map((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const b = values(n, i + 1, 1);
        const d = values(n, 50 * t + i, 0.02);
        return { name: `w${i}`, dtype: 'F32' as const, shape, values: b.map((x, k) => x + (d[k] as number)) };
      }),
    ),
  }));
  return buildModelSet(base, tasks);
}

describe('device lost mid-merge', () => {
  for (const method of ['emr', 'ties', 'avg'] as const) {
    it(`${method}: finishes on the CPU with the CPU's result, and says so`, async () => {
      const s = set();
      const gpu = await acquireGpu(); // a device of its own, to lose
      const notices: string[] = [];
      const engine = new FallbackEngine(
        new GpuEngine(gpu, true),
        () => new CpuEngine(),
        (why) => notices.push(why),
      );
      let chunks = 0;
      const opts = { budgetBytes: 16 * 1024 };
      const got = await runMerge(s, methodSpec(method), engine, {
        ...opts,
        onProgress: () => {
          if (++chunks === 3) gpu.device.destroy(); // the GPU goes away after three chunks
        },
      });
      const want = await runMerge(s, methodSpec(method), new CpuEngine(), opts);
      expect(engine.fellBack).toBeDefined();
      expect(notices).toHaveLength(1);
      expect(engine.kind).toBe('cpu');
      expect(engine.description).toMatch(/^CPU .*after GPU: .* failed/);
      for (const t of s.shared) {
        if (method === 'emr') {
          expect((got as EmrResult).masks.get(t.name)).toEqual((want as EmrResult).masks.get(t.name));
          expect((got as EmrResult).tauUni.get(t.name)).toEqual((want as EmrResult).tauUni.get(t.name));
        } else {
          expect((got as MergedResult).merged.get(t.name)).toEqual((want as MergedResult).merged.get(t.name));
        }
      }
      engine.dispose();
    });
  }
});

type Faults = ReturnType<typeof allocationFaults>;

/** A merge whose GPU engine is disturbed by `fault` after three chunks, against a CPU merge. */
async function disturbed(method: 'emr' | 'ties' | 'avg' | 'ta', fault: (faults: Faults) => void) {
  const s = set();
  const faults = allocationFaults();
  const gpuEngine = new GpuEngine(await acquireGpu(), true, faults);
  const notices: string[] = [];
  const engine = new FallbackEngine(
    gpuEngine,
    () => new CpuEngine(),
    (why) => notices.push(why),
  );
  let chunks = 0;
  const opts = { budgetBytes: 16 * 1024 };
  const got = await runMerge(s, methodSpec(method), engine, {
    ...opts,
    onProgress: () => {
      if (++chunks === 3) fault(faults);
    },
  });
  const want = await runMerge(s, methodSpec(method), new CpuEngine(), opts);
  for (const t of s.shared) {
    if (method === 'emr') {
      expect((got as EmrResult).masks.get(t.name)).toEqual((want as EmrResult).masks.get(t.name));
      expect((got as EmrResult).tauUni.get(t.name)).toEqual((want as EmrResult).tauUni.get(t.name));
    } else {
      expect((got as MergedResult).merged.get(t.name)).toEqual((want as MergedResult).merged.get(t.name));
    }
  }
  if (method === 'emr') {
    // λ: the GPU's chunks add f32 partials in another order (within 1e-6 relative:
    // docs/architecture.md#engines)
    (got as EmrResult).lambdas.forEach((l, t) =>
      expect(Math.abs(l - ((want as EmrResult).lambdas[t] as number))).toBeLessThan(1e-6 * l),
    );
  }
  expect(got.nonFinite).toEqual(want.nonFinite);
  engine.dispose();
  return { engine, notices, chunks };
}

describe('an allocation the GPU refuses mid-merge', () => {
  for (const method of ['emr', 'ties', 'avg', 'ta'] as const) {
    it(`${method}: a buffer past maxBufferSize fails the call at once; the CPU finishes, same result`, async () => {
      const { engine, notices } = await disturbed(method, (faults) => faults.refuseNext());
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^the GPU could not allocate buffer .* bytes\): request refused/);
      expect(engine.kind).toBe('cpu');
      expect(engine.description).toMatch(/^CPU .*after GPU: .* failed: the GPU could not allocate/);
    });
  }

  it('an out-of-memory verdict from the error scope (simulated) is a GpuAllocationError of that kind', async () => {
    const gpu = await acquireGpu();
    const engine = new GpuEngine(gpu, true);
    const { device } = gpu;
    const pop = device.popErrorScope.bind(device);
    let pops = 0;
    // The engine pushes 'out-of-memory', then 'validation': every second pop is the OOM scope.
    device.popErrorScope = () =>
      pop().then((e) => (++pops === 2 ? ({ message: 'simulated: no memory left' } as GPUError) : e));
    const chunk = {
      numel: 64,
      base: { bytes: new Uint8Array(256), dtype: 'F32' as const },
      tasks: [{ bytes: new Uint8Array(256), dtype: 'F32' as const }],
    };
    const error = await engine.average(chunk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuAllocationError);
    expect((error as GpuAllocationError).kind).toBe('out-of-memory');
    expect((error as Error).message).toMatch(/could not allocate buffer .*: out of memory \(simulated/);
    // Refused buffers are never reused: the next call allocates again and succeeds.
    expect(Array.from((await engine.average(chunk)).merged)).toEqual(new Array(64).fill(0));
    engine.dispose();
  });
});
