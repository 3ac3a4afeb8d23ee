// The GPU benchmark's measurements, the same under dawn.node and in the bench page (Chromium):
// for N = 2, 8, 32 on one synthetic chunk each (f32, ~24 MiB of input: base + N tasks, task
// vectors ~1 % of the weights with 10 % exact zeros), the EMR pass's input bytes per second
// through the GPU engine end to end (upload, compute, readback), the CPU engine, the elect kernel
// alone on resident buffers (as the engine runs it: with subgroups where the device has them, and
// the fallback without), the reconstruction kernel alone (task 0's weights; its input: base, τ_uni
// and the mask), a naive one-thread-per-element kernel (./naive.wgsl) on the elect kernel's
// inputs, and the device's copyBufferToBuffer as the ceiling of a memory-bound pass.
import naiveWgsl from './naive.wgsl?raw';
import { narrowFromF32 } from '../../src/formats/dtype';
import type { Gpu } from '../../src/gpu/device';
import { GpuEngine } from '../../src/gpu/engine';
import { dispatchShape } from '../../src/gpu/runtime/dispatch';
import { CpuEngine } from '../../src/merge/cpu/engine';
import type { ChunkInput, MergeEngine } from '../../src/merge/engine';

const INPUT_BYTES = 24 * 2 ** 20;
const REPS = 2;
const KERNEL_REPS = 3;
/** Rounds over the four kernels, interleaved: each keeps its best, so a load spike on a shared machine hits one round. */
const KERNEL_ROUNDS = 3;

function syntheticChunk(numTasks: number): ChunkInput {
  const numel = Math.floor(INPUT_BYTES / ((numTasks + 1) * 4) / 2048) * 2048;
  let s = 12345 + numTasks;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const base = Float32Array.from({ length: numel }, rnd);
  const raw = (v: Float32Array) => ({ bytes: narrowFromF32(v, 'F32'), dtype: 'F32' as const });
  const tasks = Array.from({ length: numTasks }, () =>
    raw(base.map((b) => (rnd() < -0.8 ? b : b + rnd() * 0.01))),
  );
  return { numel, base: raw(base), tasks };
}

const bytesOf = (c: ChunkInput) =>
  c.base.bytes.byteLength + c.tasks.reduce((a, t) => a + t.bytes.byteLength, 0);

/** Seconds of one EMR pass through an engine (after a warm-up), the best of REPS. */
async function endToEnd(engine: MergeEngine, chunk: ChunkInput): Promise<number> {
  await engine.emr(chunk);
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await engine.emr(chunk);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

/**
 * Seconds per rep of what `encode` records: GPU timestamps around one compute pass of `reps`
 * dispatches where the device has 'timestamp-query', else wall time from submit to
 * onSubmittedWorkDone (after a warm-up submit).
 */
async function timeOnGpu(
  device: GPUDevice,
  reps: number,
  encode: (encoder: GPUCommandEncoder, pass: GPUComputePassEncoder | undefined) => void,
  compute: boolean,
): Promise<{ seconds: number; how: 'timestamps' | 'wall' }> {
  const submit = (timestamps?: GPUComputePassTimestampWrites) => {
    const encoder = device.createCommandEncoder();
    if (compute) {
      const pass = encoder.beginComputePass(timestamps ? { timestampWrites: timestamps } : {});
      for (let r = 0; r < reps; r++) encode(encoder, pass);
      pass.end();
    } else for (let r = 0; r < reps; r++) encode(encoder, undefined);
    return encoder;
  };
  device.queue.submit([submit().finish()]);
  await device.queue.onSubmittedWorkDone();
  if (compute && device.features.has('timestamp-query')) {
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolve = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const encoder = submit({ querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const [t0, t1] = new BigInt64Array(read.getMappedRange());
    const ns = Number((t1 as bigint) - (t0 as bigint));
    read.unmap();
    [querySet, resolve, read].forEach((x) => x.destroy());
    if (ns > 0) return { seconds: ns / 1e9 / reps, how: 'timestamps' };
  }
  const t0 = performance.now();
  device.queue.submit([submit().finish()]);
  await device.queue.onSubmittedWorkDone();
  return { seconds: (performance.now() - t0) / 1000 / reps, how: 'wall' };
}

/** Seconds per dispatch of a kernel on resident buffers (see timeOnGpu). */
const timeKernel = (device: GPUDevice, encode: (pass: GPUComputePassEncoder) => void) =>
  timeOnGpu(device, KERNEL_REPS, (_, pass) => encode(pass as GPUComputePassEncoder), true);

/** The naive kernel, encoded on buffers holding `chunk` (f32). */
function naiveKernel(gpu: Gpu, chunk: ChunkInput): (pass: GPUComputePassEncoder) => void {
  const { device } = gpu;
  const n = chunk.numel;
  const numTasks = chunk.tasks.length;
  const [gx, gy] = dispatchShape(Math.ceil(n / 256), gpu.info.limits.maxComputeWorkgroupsPerDimension);
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const buffer = (size: number, usage: number) =>
    device.createBuffer({ size: Math.ceil(size / 16) * 16, usage });
  const params = buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const base = buffer(n * 4, storage);
  const tasks = buffer(numTasks * n * 4, storage);
  const tau = buffer(n * 4, storage);
  const masks = buffer(numTasks * Math.ceil(n / 32) * 4, storage);
  device.queue.writeBuffer(params, 0, new Uint32Array([n, numTasks, gx, 0]));
  device.queue.writeBuffer(base, 0, chunk.base.bytes);
  chunk.tasks.forEach((t, i) => device.queue.writeBuffer(tasks, i * n * 4, t.bytes));
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: naiveWgsl }), entryPoint: 'main' },
  });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [params, base, tasks, tau, masks].map((b, binding) => ({ binding, resource: { buffer: b } })),
  });
  return (pass) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(gx, gy);
  };
}

async function copyBandwidth(device: GPUDevice): Promise<number> {
  const size = 64 * 2 ** 20;
  const a = device.createBuffer({ size, usage: GPUBufferUsage.COPY_SRC });
  const b = device.createBuffer({ size, usage: GPUBufferUsage.COPY_DST });
  const { seconds } = await timeOnGpu(
    device,
    8,
    (encoder) => encoder.copyBufferToBuffer(a, 0, b, 0, size),
    false,
  );
  a.destroy();
  b.destroy();
  return size / seconds;
}

/** Runs every measurement and returns the printed table (markdown), logging progress on the way. */
export async function measure(gpu: Gpu, log: (line: string) => void = () => {}): Promise<string> {
  const { device } = gpu;
  const gib = (bytesPerSecond: number) => (bytesPerSecond / 2 ** 30).toFixed(3);
  const subgroups = gpu.info.features.includes('subgroups');
  const copy = await copyBandwidth(device);
  log(`copyBufferToBuffer: ${gib(copy)} GiB/s`);
  const cpu = new CpuEngine();
  const rows: string[] = [];
  let timing = '';
  for (const numTasks of [2, 8, 32]) {
    const chunk = syntheticChunk(numTasks);
    const bytes = bytesOf(chunk);
    const engine = new GpuEngine(gpu);
    const gpuSeconds = await endToEnd(engine, chunk);
    const cpuSeconds = await endToEnd(cpu, chunk);
    const fallback = new GpuEngine(gpu, false, { subgroups: false });
    const emr = await cpu.emr(chunk);
    const rebuild = engine.residentReconstruct({
      base: chunk.base,
      tauUni: emr.tauUni,
      mask: emr.masks,
      maskOffsetWords: 0,
      lambda: 1.25,
      dtype: 'F32',
    });
    const kernels = [
      engine.residentElect(chunk).encode,
      fallback.residentElect(chunk).encode,
      rebuild.encode,
      naiveKernel(gpu, chunk),
    ];
    const best = kernels.map(() => ({ seconds: Infinity, how: 'wall' as 'timestamps' | 'wall' }));
    for (let round = 0; round < KERNEL_ROUNDS; round++)
      for (const [i, encode] of kernels.entries()) {
        const t = await timeKernel(device, encode);
        if (t.seconds < (best[i] as (typeof best)[number]).seconds) best[i] = t;
      }
    const [kernel, plain, rebuildTime, naiveTime] = best as [
      (typeof best)[number],
      (typeof best)[number],
      (typeof best)[number],
      (typeof best)[number],
    ];
    engine.dispose();
    fallback.dispose();
    timing =
      kernel.how === 'timestamps'
        ? "GPU timestamps ('timestamp-query')"
        : 'submit → onSubmittedWorkDone wall time';
    const k = bytes / kernel.seconds;
    const r = rebuild.inputBytes / rebuildTime.seconds;
    const nv = bytes / naiveTime.seconds;
    const row = [
      numTasks,
      chunk.numel.toLocaleString('en'),
      (bytes / 2 ** 20).toFixed(1),
      gib(bytes / gpuSeconds),
      gib(bytes / cpuSeconds),
      gib(k),
      gib(bytes / plain.seconds),
      gib(r),
      gib(nv),
      gib(copy),
      (k / copy).toFixed(3),
      (k / nv).toFixed(2),
      (r / nv).toFixed(2),
    ];
    rows.push(`| ${row.join(' | ')} |`);
    log(rows[rows.length - 1] as string);
  }
  return [
    `adapter: ${gpu.info.name}${gpu.info.isSoftware ? ' (software adapter)' : ''} — ${gpu.info.description || 'no description'}; features: ${gpu.info.features.join(', ') || 'none'}`,
    `kernel times: ${timing}; copy: wall time of 8 × 64 MiB copies; kernels: best of ${KERNEL_ROUNDS} interleaved rounds of ${KERNEL_REPS} dispatches; end to end: best of ${REPS} after a warm-up; GiB/s of input (elect, naive, end to end: base + N tasks; reconstruct: base + τ_uni + mask)`,
    '',
    `| N | elements | input MiB | GPU engine end to end | CPU engine | elect kernel${subgroups ? ' (subgroups)' : ''} | elect, fallback | reconstruct kernel | naive kernel | copyBufferToBuffer | elect / copy | elect / naive | reconstruct / naive |`,
    '| -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: |',
    ...rows,
  ].join('\n');
}
