// The one place the worker turns "cpu" / "gpu" into an engine. The CPU engine spreads each chunk
// over one Web Worker per core (bit-identical to one thread); where workers cannot be started
// (Node tests) it runs on this thread. The GPU engine gets a device of its own for the merge and
// gives it back when the merge's engine is disposed; if the device is lost mid-merge, the merge goes
// on on the CPU engine and its description says so (the finished merge shows it).
import { wrap } from 'comlink';
import { acquireGpu } from '../../src/gpu/device';
import { GpuEngine } from '../../src/gpu/engine';
import { CpuEngine } from '../../src/merge/cpu/engine';
import { FallbackEngine } from '../../src/merge/fallback';
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

/** The GPU engine, falling back to the CPU engine for the rest of a merge if the device is lost. */
export async function createEngine(kind: EngineKind): Promise<MergeEngine> {
  return kind === 'gpu'
    ? new FallbackEngine(new GpuEngine(await acquireGpu(), true), cpuEngine)
    : cpuEngine();
}
