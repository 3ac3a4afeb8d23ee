// A Web Worker entry serving the CPU kernels (see ./parallel.ts).
import { expose } from 'comlink';
import { kernelServer } from './kernel-server';

expose(kernelServer);
