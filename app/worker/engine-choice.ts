// The one place the worker turns "cpu" / "gpu" into an engine. The CPU engine spreads each chunk
// over one Web Worker per core (bit-identical to one thread); where workers cannot be started
// (Node tests) it runs on this thread. The WebGPU engine (src/gpu) is being built beside the
// studio; until it lands, a GPU request runs on the CPU engine and the finished merge says so (it
// reports the engine's own description). Swapping it in is one line below.
import { wrap } from 'comlink';
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
  // When src/gpu/engine.ts lands: if (kind === 'gpu') return new GpuEngine(await acquireGpu());
  void kind;
  return cpuEngine();
}
