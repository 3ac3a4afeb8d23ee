// The LoRA kernel on WebGPU (shaders/lora.wgsl): W + s·B·A over the range of an adapted weight
// that the scheduler reads, bit for bit the CPU twin (src/peft/kernel.ts) on any device. A and B
// go up once per adapted weight and stay (least recently used dropped past a budget); a call
// uploads only its range of base values, in binding-sized tiles, and reads back W + s·B·A.
// What the kernel cannot do exactly goes to the CPU twin, which gives the same bytes: factors or a
// scale outside the range where the WGSL arithmetic is exact (see the shader), a base value out of
// range (the kernel says so), factors larger than one binding. A failing device (lost, out of
// memory) makes `adapt` reject: the caller's SwitchingLoraKernel then carries on on the CPU.
import exactWgsl from '../../shaders/merge/exact.wgsl?raw';
import loraWgsl from '../../shaders/lora.wgsl?raw';
import { cpuLoraKernel, type LoraFactors, type LoraKernel } from '../peft/kernel';
import type { Gpu } from './device';
import { dispatchShape } from './reduce';

const WORKGROUP_SIZE = 256;
/** Elements per dispatch at most (a lower binding limit lowers it): 64 MiB of base values. */
const MAX_TILE_ELEMENTS = 16 * 2 ** 20;
/** Bytes of uploaded factors kept on the device; the scheduler goes tensor by tensor, so few are live. */
const FACTOR_CACHE_BYTES = 256 * 2 ** 20;
/** Ranks the shader's bounds allow (|acc| < r·2^60 stays far below 2^128). */
const MAX_RANK = 2 ** 16;

/** The flag word as the host sets it, and as the shader leaves it when a base value is out of range. */
const RAN = 2;
const OUT_OF_RANGE = 1;

/** ±0 or 2^-30 ≤ |x| < 2^30: the factors' range in which the shader's arithmetic is exact. */
function factorInRange(x: number): boolean {
  const m = Math.abs(x);
  return m === 0 || (m >= 2 ** -30 && m < 2 ** 30);
}

/** Factors the shader can take exactly, and whose indices it can form; else they go to the CPU twin. */
function gpuCanTake(f: LoraFactors, maxBinding: number): boolean {
  const s = Math.fround(f.scale);
  return (
    f.r >= 1 &&
    f.r <= MAX_RANK &&
    f.a.length % f.r === 0 &&
    f.b.length % f.r === 0 &&
    f.a.byteLength <= maxBinding &&
    f.b.byteLength <= maxBinding &&
    s >= 2 ** -20 &&
    s <= 2 ** 20 &&
    f.a.every(factorInRange) &&
    f.b.every(factorInRange)
  );
}

interface Uploaded {
  readonly a: GPUBuffer;
  readonly b: GPUBuffer;
  readonly bytes: number;
}

const usage = () => ({
  storageIn: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  storageOut: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  readback: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  uniform: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
});

export class GpuLoraKernel implements LoraKernel {
  readonly kind = 'gpu' as const;
  readonly description: string;
  /** Elements computed by the shader and by the CPU twin (out of range, too large), factor uploads: tests read it. */
  readonly computed = { gpu: 0, cpu: 0, uploads: 0 };
  private readonly device: GPUDevice;
  /** Per factors object: its buffers, or null when it goes to the CPU twin. In use order (LRU). */
  private readonly factors = new Map<LoraFactors, Uploaded | null>();
  private cachedBytes = 0;
  private readonly pipelines = new Map<boolean, GPUComputePipeline>();

  constructor(
    private readonly gpu: Gpu,
    /** Destroy the device on dispose (when the kernel was given a device of its own). */
    private readonly ownsDevice = false,
  ) {
    this.device = gpu.device;
    this.description = `GPU: ${gpu.info.name}`;
  }

  /** Elements per tile: one binding, one buffer (the readback holds a flag word more), MAX_TILE_ELEMENTS. */
  private tileElements(): number {
    const { maxStorageBufferBindingSize, maxBufferSize } = this.gpu.info.limits;
    return Math.max(
      1,
      Math.min(
        MAX_TILE_ELEMENTS,
        Math.floor(maxStorageBufferBindingSize / 4),
        Math.floor(maxBufferSize / 4) - 1,
      ),
    );
  }

  async adapt(f: LoraFactors, w: Float32Array, first: number): Promise<Float32Array> {
    const tile = this.tileElements();
    // Column indices col0 + e must fit a u32 in the shader.
    if (f.cols + tile >= 2 ** 32 || !this.uploaded(f)) return this.onCpu(f, w, first);
    if (w.length <= tile) return this.tile(f, w, first);
    // One tile at a time: the buffers of a range never exceed one binding's worth.
    const out = new Float32Array(w.length);
    for (let start = 0; start < w.length; start += tile) {
      const end = Math.min(w.length, start + tile);
      out.set(await this.tile(f, w.subarray(start, end), first + start), start);
    }
    return out;
  }

  private onCpu(f: LoraFactors, w: Float32Array, first: number): Promise<Float32Array> {
    this.computed.cpu += w.length;
    return cpuLoraKernel.adapt(f, w, first);
  }

  /** The factors' buffers (uploaded on first use, marked most recently used), or null for the CPU twin. */
  private uploaded(f: LoraFactors): Uploaded | null {
    const have = this.factors.get(f);
    if (have !== undefined) {
      this.factors.delete(f);
      this.factors.set(f, have);
      return have;
    }
    if (!gpuCanTake(f, this.gpu.info.limits.maxStorageBufferBindingSize)) {
      this.factors.set(f, null);
      return null;
    }
    const upload = (data: Float32Array, label: string) => {
      const buffer = this.device.createBuffer({
        label,
        size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
        usage: usage().storageIn,
      });
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return buffer;
    };
    const entry = {
      a: upload(f.a, `${f.name} lora_A`),
      b: upload(f.b, `${f.name} lora_B`),
      bytes: f.a.byteLength + f.b.byteLength,
    };
    this.factors.set(f, entry);
    this.cachedBytes += entry.bytes;
    this.computed.uploads++;
    // Past the budget, the least recently used go (never the one just added). Work already
    // submitted with them completes: WebGPU frees a destroyed buffer once the queue is done with it.
    for (const [key, old] of this.factors) {
      if (this.cachedBytes <= FACTOR_CACHE_BYTES || key === f) break;
      this.factors.delete(key);
      if (old) {
        old.a.destroy();
        old.b.destroy();
        this.cachedBytes -= old.bytes;
      }
    }
    return entry;
  }

  private pipeline(fanInFanOut: boolean): GPUComputePipeline {
    let p = this.pipelines.get(fanInFanOut);
    if (!p) {
      p = this.device.createComputePipeline({
        label: `lora fan_in_fan_out=${fanInFanOut}`,
        layout: 'auto',
        compute: {
          module: this.device.createShaderModule({ label: 'lora', code: exactWgsl + loraWgsl }),
          entryPoint: 'main',
          constants: { WORKGROUP_SIZE, FAN_IN_FAN_OUT: fanInFanOut ? 1 : 0 },
        },
      });
      this.pipelines.set(fanInFanOut, p);
    }
    return p;
  }

  /** One tile: everything from the cache lookup to the submit is synchronous, so no eviction comes between. */
  private async tile(f: LoraFactors, w: Float32Array, first: number): Promise<Float32Array> {
    const n = w.length;
    if (n === 0) return new Float32Array(0);
    const up = this.uploaded(f);
    if (!up) return this.onCpu(f, w, first);
    const { device } = this;
    const { storageIn, storageOut, readback, uniform } = usage();
    const [gx, gy] = dispatchShape(
      Math.ceil(n / WORKGROUP_SIZE),
      this.gpu.info.limits.maxComputeWorkgroupsPerDimension,
    );
    const row0 = Math.floor(first / f.cols);
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 7).set([n, row0, first - row0 * f.cols, f.cols, f.r, f.a.length / f.r, gx]);
    new Float32Array(params, 28, 1)[0] = f.scale;
    const bRead = device.createBuffer({ label: 'lora readback', size: n * 4 + 4, usage: readback });
    const buffers = [bRead];
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let errors: Promise<(GPUError | null)[]>;
    try {
      const made = (label: string, size: number, use: GPUBufferUsageFlags) => {
        const buffer = device.createBuffer({ label, size, usage: use });
        buffers.push(buffer);
        return buffer;
      };
      const bParams = made('lora params', 32, uniform);
      const bW = made('lora w', n * 4, storageIn);
      const bOut = made('lora out', n * 4, storageOut);
      const bFlag = made('lora flag', 4, storageOut | GPUBufferUsage.COPY_DST);
      device.queue.writeBuffer(bParams, 0, params);
      device.queue.writeBuffer(bFlag, 0, new Uint32Array([RAN]));
      device.queue.writeBuffer(bW, 0, w.buffer, w.byteOffset, n * 4);
      const pipeline = this.pipeline(f.fanInFanOut);
      const encoder = device.createCommandEncoder({ label: 'lora' });
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [bParams, up.a, up.b, bW, bOut, bFlag].map((buffer, binding) => ({
            binding,
            resource: { buffer },
          })),
        }),
      );
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      encoder.copyBufferToBuffer(bOut, 0, bRead, 0, n * 4);
      encoder.copyBufferToBuffer(bFlag, 0, bRead, n * 4, 4);
      device.queue.submit([encoder.finish()]);
    } finally {
      // Popped in the same turn as pushed: calls in flight together never share a scope.
      errors = Promise.all([device.popErrorScope(), device.popErrorScope()]);
    }
    try {
      const [, [validation, memory]] = await Promise.all([bRead.mapAsync(GPUMapMode.READ), errors]);
      const error = validation ?? memory;
      if (error) throw new Error(`the LoRA kernel failed on ${f.name}: ${error.message}`);
      const bytes = bRead.getMappedRange().slice(0);
      bRead.unmap();
      const flag = new Uint32Array(bytes, n * 4, 1)[0];
      if (flag === OUT_OF_RANGE) return this.onCpu(f, w, first);
      // Neither value: the queue never ran (a device lost on the way may map zeros).
      if (flag !== RAN) throw new Error(`the LoRA kernel did not run on ${f.name} (flag ${flag})`);
      this.computed.gpu += n;
      return new Float32Array(bytes, 0, n);
    } finally {
      for (const b of buffers) b.destroy();
    }
  }

  dispose(): void {
    for (const up of this.factors.values()) {
      up?.a.destroy();
      up?.b.destroy();
    }
    this.factors.clear();
    this.cachedBytes = 0;
    if (this.ownsDevice) this.device.destroy();
  }
}
