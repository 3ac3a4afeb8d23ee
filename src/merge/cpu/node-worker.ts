// A worker_threads entry serving the CPU kernels (see ./parallel.ts).
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { kernelServer } from './kernel-server';

if (!parentPort) throw new Error('node-worker.ts runs as a worker thread');
expose(kernelServer, nodeEndpoint(parentPort));
