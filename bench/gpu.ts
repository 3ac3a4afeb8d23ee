// npm run bench:gpu — the EMR pass per engine on the same in-memory chunks (N = 8 tasks, f32),
// beside the device's own buffer-to-buffer copy bandwidth, in one run. Runs the WGSL kernels through
// dawn.node on whatever adapter the machine has (set VK_ICD_FILENAMES to Chromium's SwiftShader
// driver on a machine without a GPU; SwiftShader numbers say nothing about a real GPU).
import { create, globals } from 'webgpu';
import { acquireGpu } from '../src/gpu/device';
import { GpuEngine } from '../src/gpu/engine';
import { narrowFromF32 } from '../src/formats/dtype';
import { CpuEngine } from '../src/merge/cpu/engine';
import { createNodeCpuEngine } from '../src/merge/cpu/node-engine';
import type { ChunkInput, MergeEngine } from '../src/merge/engine';

Object.assign(globalThis, globals);
const dawn = create([]); // kept referenced for the whole run: dawn.node must not be collected
const gpu = await acquireGpu(dawn);
const numTasks = Number(process.env['BENCH_TASKS'] ?? 8);
const numel = Number(process.env['BENCH_CHUNK'] ?? 1 << 21);
const chunks = Number(process.env['BENCH_CHUNKS'] ?? 4);

let s = 1;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const base = Float32Array.from({ length: numel }, rnd);
const chunk: ChunkInput = {
  numel,
  base: { bytes: narrowFromF32(base, 'F32'), dtype: 'F32' },
  tasks: Array.from({ length: numTasks }, () => ({
    bytes: narrowFromF32(
      base.map((b) => b + rnd() * 0.01),
      'F32',
    ),
    dtype: 'F32' as const,
  })),
};
const inputBytes = (numTasks + 1) * numel * 4 * chunks;

async function time(engine: MergeEngine): Promise<number> {
  await engine.emr(chunk); // warm-up: pipelines, pools, JIT
  const t0 = performance.now();
  for (let k = 0; k < chunks; k++) await engine.emr(chunk);
  return (performance.now() - t0) / 1000;
}

async function copyBandwidth(): Promise<number> {
  const size = 64 * 2 ** 20;
  const { device } = gpu;
  const a = device.createBuffer({ size, usage: GPUBufferUsage.COPY_SRC });
  const b = device.createBuffer({ size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  const done = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const run = async (reps: number) => {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < reps; i++) encoder.copyBufferToBuffer(a, 0, b, 0, size);
    encoder.copyBufferToBuffer(b, 0, done, 0, 4); // mapping this waits for the copies
    device.queue.submit([encoder.finish()]);
    await done.mapAsync(GPUMapMode.READ);
    done.unmap();
  };
  await run(1);
  const t0 = performance.now();
  await run(8);
  const seconds = (performance.now() - t0) / 1000;
  a.destroy();
  b.destroy();
  done.destroy();
  return (8 * size) / seconds;
}

const copy = await copyBandwidth();
const rows: [string, number][] = [
  [`GPU (${gpu.info.name})`, await time(new GpuEngine(gpu))],
  ['CPU, one thread', await time(new CpuEngine())],
];
const parallel = createNodeCpuEngine();
rows.push([parallel.description, await time(parallel)]);
parallel.dispose();

const gib = (bytes: number, seconds: number) => (bytes / 2 ** 30 / seconds).toFixed(2);
console.log(
  `\nEMR pass, ${chunks} chunks × ${numel.toLocaleString('en')} elements × (base + ${numTasks} tasks), f32: ${(inputBytes / 2 ** 20).toFixed(0)} MiB of input`,
);
console.log(
  `adapter: ${gpu.info.name}${gpu.info.isSoftware ? ' (software)' : ''}; copyBufferToBuffer ${(copy / 2 ** 30).toFixed(1)} GiB/s\n`,
);
console.log('| engine | seconds | input GiB/s | × copy bandwidth | × one CPU thread |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const single = rows[1]?.[1] as number;
for (const [name, seconds] of rows) {
  console.log(
    `| ${name} | ${seconds.toFixed(3)} | ${gib(inputBytes, seconds)} | ${(inputBytes / seconds / copy).toFixed(3)} | ${(single / seconds).toFixed(2)} |`,
  );
}
gpu.device.destroy();
void dawn;
