// The spectral methods' cost per layer size: the thin SVD (src/merge/spectral/svd.ts) timed on random
// square matrices, and each method on one layer with N task vectors (tsv_m: N + 2 SVDs of the layer's
// size, iso_c: 1, iso_cts: N + 3; docs/merge.md#spectral).
//   node --import tsx bench/spectral.ts [SIZES (256,768,1024)] [METHOD_SIZE (256)] [TASKS (8)]
import { isoCLayer, isoCtsLayer, tsvmLayer } from '../src/merge/spectral/kernels';
import { svd } from '../src/merge/spectral/svd';

const sizes = (process.argv[2] ?? '256,768,1024').split(',').map(Number);
const methodSize = Number(process.argv[3] ?? 256);
const numTasks = Number(process.argv[4] ?? 8);

function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from(
    { length: n },
    () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5,
  );
}

/** Wall and CPU seconds (CPU time is what a loaded machine does not inflate). */
const seconds = (f: () => unknown) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return `${((performance.now() - t0) / 1000).toFixed(2)} | ${((c.user + c.system) / 1e6).toFixed(2)}`;
};

console.log('| layer | SVD wall s | SVD CPU s |');
console.log('| ----: | ---------: | --------: |');
for (const n of sizes) {
  const a = values(n * n, n);
  console.log(`| ${n}×${n} | ${seconds(() => svd(a, n, n))} |`);
}

const tasks = Array.from({ length: numTasks }, (_, t) => values(methodSize ** 2, 100 + t));
const tau = (t: number) => tasks[t] as Float64Array;
const n = methodSize;
console.log(`\n| method (${n}×${n}, ${numTasks} tasks) | wall s | CPU s |`);
console.log('| ------ | -----: | ----: |');
console.log(`| tsv_m | ${seconds(() => tsvmLayer(tau, numTasks, n, n))} |`);
console.log(`| iso_c | ${seconds(() => isoCLayer(tau, numTasks, n, n))} |`);
console.log(`| iso_cts | ${seconds(() => isoCtsLayer(tau, numTasks, n, n, 0.8))} |`);
