import { afterEach, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { startWorkerEarly, takeWorker } from './node-worker-start';

const made: Worker[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((w) => w.terminate()));
});

it('hands the worker started early to the next engine, once', async () => {
  startWorkerEarly();
  const first = takeWorker();
  made.push(first);
  startWorkerEarly(); // a new one, since the first was taken
  startWorkerEarly(); // …and only one
  const second = takeWorker();
  made.push(second);
  const third = takeWorker(); // none waiting: a new one
  made.push(third);
  // Thread ids count up as workers are made: consecutive ids mean no worker was made and lost.
  const [a, b, c] = made.map((w) => w.threadId) as [number, number, number];
  expect([b - a, c - b]).toEqual([1, 1]);
  // Each is a real kernel-server thread that boots and answers.
  const online = (w: Worker) =>
    new Promise<void>((done, fail) => (w.once('online', done), w.once('error', fail)));
  await Promise.all(made.map(online));
});
