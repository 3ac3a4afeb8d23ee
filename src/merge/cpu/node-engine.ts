// The CPU engine for Node (the CLI): the kernels on worker threads, one per core, started on first
// use (an EMR merge with WebAssembly SIMD never needs them: see ./parallel.ts).
import { wrap, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { KernelServer } from './kernel-server';
import { takeWorker } from './node-worker-start';
import { ParallelCpuEngine } from './parallel';

const KERNELS = [
  'emr',
  'emrReconstruct',
  'average',
  'taskArithmetic',
  'absHistogram',
  'ties',
  'arenaAttach',
  'arenaElect',
  'arenaDetach',
] as const;

export function createNodeCpuEngine(
  threads = availableParallelism(),
  options: { wasm?: boolean; arena?: boolean; arenaHelper?: boolean } = {},
): ParallelCpuEngine {
  const started: Worker[] = [];
  const lazy = (): Remote<KernelServer> => {
    let remote: Remote<KernelServer> | undefined;
    const get = () => {
      if (!remote) {
        const w = takeWorker();
        started.push(w);
        remote = wrap<KernelServer>(nodeEndpoint(w));
      }
      return remote;
    };
    return Object.fromEntries(
      KERNELS.map((k) => [k, (...args: unknown[]) => (get()[k] as (...a: unknown[]) => unknown)(...args)]),
    ) as unknown as Remote<KernelServer>;
  };
  return new ParallelCpuEngine(
    Array.from({ length: Math.max(1, threads) }, lazy),
    () => void Promise.all(started.splice(0).map((w) => w.terminate())),
    // EMR merges in the engine's memory; a second core elects every other chunk (./wasm/arena.ts).
    { arena: true, arenaHelper: threads >= 2, ...options },
  );
}
