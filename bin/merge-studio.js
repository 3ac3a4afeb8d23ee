#!/usr/bin/env node
// merge-studio: runs the built command line (dist-cli/, made by `npm run build:cli`: plain
// JavaScript, no TypeScript compiled at start). In a clone whose dist-cli/ is missing or older than
// a source it was built from, it runs the sources through tsx instead (a devDependency) and says
// so in one line, so an edit is never shadowed by a stale build.
import module from 'node:module';
import v8 from 'node:v8';
import { builtMain, inClone, staleBuild } from './cli-build-state.mjs';

// A merge's hot loops are WebAssembly; the JavaScript around them (headers, the writers' glue) is
// lukewarm, and V8's optimizing compiler spent ~0.1 s of CPU per run on it for nothing (a 2-core
// machine's second core, in a ~0.7 s merge). An 8x budget before a function is optimized leaves
// that compile out and still optimizes anything that runs hot for longer (docs/benchmarks.md).
v8.setFlagsFromString('--interrupt-budget=540672');

// Node 22.1+ keeps V8's compiled code of the bundle between runs (in the OS temp folder), which
// saves most of the ~30 ms of compiling it at each start; older Node has no such cache.
module.enableCompileCache?.();

// `merge-studio inspect … | head`: a reader that stops early is no error; the rest goes unprinted.
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
});

const why = staleBuild();
let main;
if (why === undefined) ({ main } = await import(builtMain.href));
else if (!inClone()) {
  // A package packed without its build (npm pack --ignore-scripts): nothing to run.
  process.stderr.write(
    `merge-studio: ${why}: this package was packed without its build (npm run build:cli)\n`,
  );
  main = async () => 1;
} else {
  process.stderr.write(
    `merge-studio: ${why}; running the sources through tsx (npm run build:cli to build)\n`,
  );
  const { register } = await import('tsx/esm/api');
  await import('./raw-loader-register.mjs');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
