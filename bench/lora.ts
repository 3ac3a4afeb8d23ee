// LoRA deltas, CPU twin against the WGSL kernel through dawn.node, as the streaming merge calls
// them: one adapted weight read in scheduler-sized ranges, W + s·B·A per range, bits compared.
//   node --import tsx --import ./bin/raw-loader-register.mjs bench/lora.ts [OUT IN R CHUNK]
// Without a GPU, set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader: a
// correctness device, slower than the CPU; the GPU kernel is for real GPUs).
import { tmpdir } from 'node:os';
import { create, globals } from 'webgpu';
import { acquireGpu } from '../src/gpu/device';
import { GpuLoraKernel } from '../src/gpu/lora';
import { cpuLoraKernel, type LoraFactors, type LoraKernel } from '../src/peft/kernel';

const [OUT, IN, R, CHUNK] = [2048, 2048, 16, 1 << 20].map((d, i) => Number(process.argv[2 + i] ?? d)) as [
  number,
  number,
  number,
  number,
];

process.env['XDG_RUNTIME_DIR'] ??= tmpdir();
Object.assign(globalThis, globals);
const dawn = create([]);

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale,
  );
}

const w = values(OUT * IN, 1, 1);
const factors: LoraFactors = {
  name: 'bench.weight',
  a: values(R * IN, 2, 0.1),
  b: values(OUT * R, 3, 0.1),
  r: R,
  cols: IN,
  scale: 2,
  fanInFanOut: false,
};

async function pass(kernel: LoraKernel): Promise<{ seconds: number; out: Float32Array }> {
  const out = new Float32Array(w.length);
  const started = performance.now();
  for (let first = 0; first < w.length; first += CHUNK) {
    const range = w.subarray(first, Math.min(w.length, first + CHUNK));
    out.set(await kernel.adapt(factors, range, first), first);
  }
  return { seconds: (performance.now() - started) / 1000, out };
}

const gpu = await acquireGpu(dawn);
const kernel = new GpuLoraKernel(gpu);
const cold = await pass(kernel); // pipeline compile and the factors' upload
const warm = await pass(kernel);
const cpu = await pass(cpuLoraKernel);
const same = new Uint32Array(warm.out.buffer).every((x, i) => x === new Uint32Array(cpu.out.buffer)[i]);
const rate = (s: number) => `${((OUT * IN) / s / 1e6).toFixed(1)} M elements/s`;
console.log(`LoRA W + s·B·A, ${OUT}×${IN}, r = ${R}, ranges of ${CHUNK} elements, on ${gpu.info.name}`);
console.log(`  CPU twin      ${cpu.seconds.toFixed(3)} s  ${rate(cpu.seconds)}`);
console.log(`  GPU (cold)    ${cold.seconds.toFixed(3)} s  ${rate(cold.seconds)}`);
console.log(`  GPU (warm)    ${warm.seconds.toFixed(3)} s  ${rate(warm.seconds)}`);
console.log(
  `  bit for bit:  ${same ? 'yes' : 'NO'}  (shader ${kernel.computed.gpu}, CPU twin ${kernel.computed.cpu} elements)`,
);
kernel.dispose();
gpu.device.destroy();
if (!same) process.exitCode = 1;
