// The one place the worker turns "cpu" / "gpu" into an engine. The CPU engine spreads each chunk
// over one Web Worker per core (bit-identical to one thread); where workers cannot be started
// (Node tests) it runs on this thread. The GPU engine gets a device of its own for the merge and
// gives it back when the merge's engine is disposed.
import { wrap } from 'comlink';
import { acquireGpu } from '../../src/gpu/device';
import { GpuEngine } from '../../src/gpu/engine';
import { CpuEngine } from '../../src/merge/cpu/engine';
import type { KernelServer } from '../../src/merge/cpu/kernel-server';
import { ParallelCpuEngine } from '../../src/merge/cpu/parallel';
import type { MergeEngine } from '../../src/merge/engine';
import type { EngineKind } from './protocol';

function cpuEngine(): MergeEngine {
  const threads = globalThis.navigator?.hardwareConcurrency ?? 1;
  if (typeof Worker === 'undefined' || threads < 2) return new CpuEngine();
  const workers = Array.from(
    { length: threads },
    () =>
      new Worker(new URL('../../src/merge/cpu/web-worker.ts', import.meta.url), {
        type: 'module',
        name: 'cpu-kernels',
      }),
  );
  return new ParallelCpuEngine(
    workers.map((w) => wrap<KernelServer>(w)),
    () => workers.forEach((w) => w.terminate()),
  );
}

export async function createEngine(kind: EngineKind): Promise<MergeEngine> {
  return kind === 'gpu' ? new GpuEngine(await acquireGpu(), true) : cpuEngine();
}
