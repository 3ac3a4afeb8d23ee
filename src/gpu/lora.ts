// The LoRA kernel on WebGPU (programs/lora.ts on the runtime): W + s·B·A over the range of an
// adapted weight that the scheduler reads, bit for bit the CPU twin (src/peft/kernel.ts) on any
// device. A and B go up once per adapted weight and stay (least recently used dropped past a
// budget, never while a call uses them); a call uploads only its range of base values, in tiles,
// and reads back W + s·B·A. What the kernel cannot do exactly goes to the CPU twin, which gives
// the same bytes: factors or a scale outside the shader's exact range, a base value out of range
// (the kernel says so), factors larger than one binding. A failing device (lost, out of memory)
// makes `adapt` reject: the caller's SwitchingLoraKernel then carries on on the CPU.
import { cpuLoraKernel, type LoraFactors, type LoraKernel } from '../peft/kernel';
import type { Gpu } from './device';
import { gpuCanTake, LORA_WORKGROUP, loraPass, OUT_OF_RANGE, RAN } from './programs/lora';
import { GpuRuntime } from './runtime/runtime';
import { stitch } from './runtime/tiles';

/** Bytes of uploaded factors kept on the device; the scheduler goes tensor by tensor, so few are live. */
const FACTOR_CACHE_BYTES = 256 * 2 ** 20;

interface Kept {
  readonly a: GPUBuffer;
  readonly b: GPUBuffer;
  readonly bytes: number;
  /** Calls using them now: they are not dropped until these are done. */
  users: number;
}

export class GpuLoraKernel implements LoraKernel {
  readonly kind = 'gpu' as const;
  readonly description: string;
  /** Elements computed by the shader and by the CPU twin (out of range, too large), factor uploads: tests read it. */
  readonly computed = { gpu: 0, cpu: 0, uploads: 0 };
  private readonly rt: GpuRuntime;
  /** Per factors object: its buffers, or null when it goes to the CPU twin. In use order (LRU). */
  private readonly factors = new Map<LoraFactors, Kept | null>();
  private cachedBytes = 0;

  constructor(
    gpu: Gpu,
    /** Destroy the device on dispose (when the kernel was given a device of its own). */
    ownsDevice = false,
  ) {
    this.rt = new GpuRuntime(gpu, { ownsDevice });
    this.description = `GPU: ${gpu.info.name}`;
  }

  async adapt(f: LoraFactors, w: Float32Array, first: number): Promise<Float32Array> {
    const tile = this.rt.tileElements(4, LORA_WORKGROUP);
    // Column indices col0 + e must fit a u32 in the shader.
    const kept = f.cols + tile >= 2 ** 32 ? null : this.kept(f);
    if (!kept) return this.onCpu(f, w, first);
    if (w.length === 0) return new Float32Array(0);
    kept.users++;
    try {
      const tiles = await this.rt.tiles(w.length, tile, async (start, end, slot) => {
        const part = w.subarray(start, end);
        const r = await this.rt.run(loraPass(f, kept, part, first + start), slot);
        const flag = r.u32('flag')[0];
        if (flag === OUT_OF_RANGE) return this.onCpu(f, part, first + start);
        // Neither value: the queue never ran (a device lost on the way may map zeros).
        if (flag !== RAN) throw new Error(`the LoRA kernel did not run on ${f.name} (flag ${flag})`);
        this.computed.gpu += end - start;
        return r.f32('out');
      });
      if (tiles.length === 1) return (tiles[0] as (typeof tiles)[number]).out;
      return stitch(new Float32Array(w.length), tiles, (out) => out);
    } finally {
      kept.users--;
    }
  }

  private onCpu(f: LoraFactors, w: Float32Array, first: number): Promise<Float32Array> {
    this.computed.cpu += w.length;
    return cpuLoraKernel.adapt(f, w, first);
  }

  /** The factors' buffers (uploaded on first use, marked most recently used), or null for the CPU twin. */
  private kept(f: LoraFactors): Kept | null {
    const have = this.factors.get(f);
    if (have !== undefined) {
      this.factors.delete(f);
      this.factors.set(f, have);
      return have;
    }
    if (!gpuCanTake(f, this.rt.limits.maxStorageBufferBindingSize)) {
      this.factors.set(f, null);
      return null;
    }
    // A refused upload is never bound again: the next call for these factors uploads anew.
    const refused = () => {
      if (this.factors.get(f) === entry) this.drop(f, entry);
    };
    const entry: Kept = {
      a: this.rt.keep(`${f.name} lora_A`, f.a, refused),
      b: this.rt.keep(`${f.name} lora_B`, f.b, refused),
      bytes: f.a.byteLength + f.b.byteLength,
      users: 0,
    };
    this.factors.set(f, entry);
    this.cachedBytes += entry.bytes;
    this.computed.uploads++;
    // Past the budget, the least recently used go (never the one just added, nor one in use).
    // Work already submitted with them completes: WebGPU frees a destroyed buffer once the queue
    // is done with it.
    for (const [key, old] of this.factors) {
      if (this.cachedBytes <= FACTOR_CACHE_BYTES) break;
      if (key === f || old?.users) continue;
      if (old) this.drop(key, old);
      else this.factors.delete(key);
    }
    return entry;
  }

  private drop(f: LoraFactors, kept: Kept): void {
    this.factors.delete(f);
    kept.a.destroy();
    kept.b.destroy();
    this.cachedBytes -= kept.bytes;
  }

  dispose(): void {
    for (const kept of this.factors.values()) {
      kept?.a.destroy();
      kept?.b.destroy();
    }
    this.factors.clear();
    this.cachedBytes = 0;
    this.rt.dispose();
  }
}
