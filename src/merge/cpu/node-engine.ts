// The CPU engine for Node (the CLI): the kernels on worker threads, one per core.
import { wrap } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KernelServer } from './kernel-server';
import { ParallelCpuEngine } from './parallel';

export function createNodeCpuEngine(threads = availableParallelism()): ParallelCpuEngine {
  const workers = Array.from(
    { length: Math.max(1, threads) },
    () => new Worker(new URL('./node-worker-entry.mjs', import.meta.url)),
  );
  for (const w of workers) w.unref(); // an idle pool never keeps the process alive
  return new ParallelCpuEngine(
    workers.map((w) => wrap<KernelServer>(nodeEndpoint(w))),
    () => void Promise.all(workers.map((w) => w.terminate())),
  );
}
