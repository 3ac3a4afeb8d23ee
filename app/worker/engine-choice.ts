// The one place the worker turns "cpu" / "gpu" into an engine. The CPU engine spreads each chunk
// over one Web Worker per core (bit-identical to one thread); where workers cannot be started
// (Node tests) it runs on this thread. The GPU engine gets a device of its own for the merge and
// gives it back when the merge's engine is disposed; if the device is lost mid-merge, the merge goes
// on on the CPU engine and its description says so (the finished merge shows it); so does an
// allocation the device refuses (GpuAllocationError). Likewise a CPU worker that dies mid-merge
// hands the rest of the merge to this thread.
import { wrap, type Remote } from 'comlink';
import { acquireGpu } from '../../src/gpu/device';
import { GpuEngine } from '../../src/gpu/engine';
import { CpuEngine } from '../../src/merge/cpu/engine';
import { FallbackEngine } from '../../src/merge/fallback';
import { withCpuFallback } from '../../src/flow/engine';
import type { KernelServer } from '../../src/merge/cpu/kernel-server';
import { ParallelCpuEngine } from '../../src/merge/cpu/parallel';
import type { MergeEngine } from '../../src/merge/engine';
import type { EngineKind } from './protocol';

/**
 * Test hooks: the next call into a CPU worker finds it crashed; the next GPU merge loses its
 * device, or has an allocation refused once it has started.
 */
const faults = { crashNext: false, loseDevice: false, refuseAllocation: false };

/** Makes the next GPU merge ask the device for a buffer it cannot allocate, in its first call. */
export function refuseNextGpuAllocation(): void {
  faults.refuseAllocation = true;
}

/**
 * GpuEngine's refuseAllocation hook for this merge: its first buffer request (made by its first
 * call) is one the device refuses, when the switch was set.
 */
function refusingFirstAllocation(): () => boolean {
  let refuse = faults.refuseAllocation;
  faults.refuseAllocation = false;
  return () => {
    const now = refuse;
    refuse = false;
    return now;
  };
}

/** Makes the next GPU merge lose its device once it has started, as a GPU reset would. */
export function loseNextGpuDevice(): void {
  faults.loseDevice = true;
}

/** The engine, with its device destroyed just before its first call. */
function losingDevice(engine: MergeEngine, device: GPUDevice): MergeEngine {
  let lost = false;
  return new Proxy(engine, {
    get(target, prop) {
      const value = (target as unknown as Record<PropertyKey, unknown>)[prop];
      if (typeof value !== 'function' || prop === 'dispose') return value;
      return (...args: unknown[]) => {
        if (!lost) {
          lost = true;
          device.destroy();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Makes the next call into a CPU kernel worker crash that worker, as an out-of-memory kill would. */
export function crashNextKernelCall(): void {
  faults.crashNext = true;
}

export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError';
}

/**
 * A CPU worker's kernels, failing the calls waiting on it when the worker dies (its 'error'
 * event) — a dead worker never answers, so without this a merge would wait forever.
 */
function guarded(worker: Worker): Remote<KernelServer> {
  const remote = wrap<KernelServer>(worker);
  let crashed: Error | undefined;
  const waiting = new Set<(e: Error) => void>();
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    crashed = new WorkerCrashedError(`a CPU worker stopped (${event.message || 'no reason given'})`);
    for (const reject of waiting) reject(crashed);
    waiting.clear();
  });
  return new Proxy(remote, {
    get(target, prop) {
      const method = (target as unknown as Record<PropertyKey, unknown>)[prop];
      if (prop === 'then' || typeof method !== 'function') return method;
      return (...args: unknown[]) => {
        if (faults.crashNext) {
          faults.crashNext = false;
          worker.terminate();
          queueMicrotask(() => worker.dispatchEvent(new ErrorEvent('error', { message: 'test: stopped' })));
        }
        if (crashed) return Promise.reject(crashed);
        return new Promise((resolve, reject) => {
          waiting.add(reject);
          (method as (...a: unknown[]) => Promise<unknown>)(...args)
            .then(resolve, reject)
            .finally(() => waiting.delete(reject));
        });
      };
    },
  });
}

/**
 * One Web Worker per core; if one dies mid-merge (out of memory, a crash), the merge goes on on
 * this thread from the chunk that failed, with the same results (FallbackEngine).
 */
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
  const stop = () => workers.forEach((w) => w.terminate());
  const parallel = new ParallelCpuEngine(workers.map(guarded), stop);
  return new FallbackEngine(parallel, () => {
    stop();
    return new CpuEngine();
  });
}

/** The GPU engine, falling back to the CPU engine for the rest of a merge if the device is lost. */
export async function createEngine(kind: EngineKind): Promise<MergeEngine> {
  if (kind === 'cpu') return cpuEngine();
  const gpu = await acquireGpu();
  let engine: MergeEngine = new GpuEngine(gpu, true, { refuseAllocation: refusingFirstAllocation() });
  if (faults.loseDevice) {
    faults.loseDevice = false;
    engine = losingDevice(engine, gpu.device);
  }
  return withCpuFallback(engine, cpuEngine); // the recipe both surfaces share (src/flow/engine.ts)
}
