// Plan: the shared engine suite (./testing/engine-suite) for the CPU engine, and for the CPU engine
// on worker threads (the suite's chunks are small, so this holds its calling-thread paths; the
// splitting across workers is ./cpu/parallel.test.ts's). The GPU engine runs the same suite in
// src/gpu/engine.gpu.test.ts.
import { CpuEngine } from './cpu/engine';
import { createNodeCpuEngine } from './cpu/node-engine';
import { engineSuite } from './testing/engine-suite';

engineSuite('CPU engine', () => new CpuEngine());
engineSuite('CPU engine, 2 worker threads', () => createNodeCpuEngine(2));
