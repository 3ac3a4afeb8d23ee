// The CPU engine's first worker thread, startable ahead of the engine. A worker takes ~0.1–0.2 s
// to boot (Node's own start-up on a second thread); `merge-studio merge` starts one while its own
// modules load and the inputs' headers are checked, so the helper that elects every other chunk
// (./wasm/arena.ts) is up when the elect pass begins instead of part-way through it
// (docs/benchmarks.md). Unused, it costs a thread that never keeps the process alive.
import { Worker } from 'node:worker_threads';

let early: Worker | undefined;

/**
 * A worker started early that fails to boot is dropped, not thrown: no engine asked for it yet (the
 * merge may never need one). The next engine then starts its own, whose failure surfaces as before.
 */
const dropEarly = function (this: Worker) {
  if (early === this) early = undefined;
};

function newWorker(): Worker {
  // Beside this module in the sources and in dist-cli/ alike (bin/build-cli.mjs).
  const w = new Worker(new URL('./node-worker-entry.mjs', import.meta.url));
  w.unref(); // an idle pool never keeps the process alive
  return w;
}

/** Starts a worker now for the next engine to take (once; later calls do nothing). */
export function startWorkerEarly(): void {
  early ??= newWorker().once('error', dropEarly);
}

/** The worker started early, if one is waiting, else a new one. */
export function takeWorker(): Worker {
  const w = early?.off('error', dropEarly) ?? newWorker();
  early = undefined;
  return w;
}
