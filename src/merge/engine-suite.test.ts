// Plan: the shared engine suite (./testing/engine-suite) for the CPU engine, and for the CPU engine
// on worker threads (most of the suite's chunks are small and stay on the calling thread; its
// large-chunk case is split across the workers). The GPU engine runs the same suite in
// src/gpu/engine.gpu.test.ts.
import { CpuEngine } from './cpu/engine';
import { createNodeCpuEngine } from './cpu/node-engine';
import { engineSuite } from './testing/engine-suite';

engineSuite('CPU engine', () => new CpuEngine());
engineSuite('CPU engine, 2 worker threads', () => createNodeCpuEngine(2));
