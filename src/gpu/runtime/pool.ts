// Pooled buffers: each key (program, binding, buffer set) holds one buffer that grows to the
// largest request and is reused, so a merge allocates per new size, not per chunk.
import type { Allocations } from './allocations';

export type BufferUse = 'uniform' | 'in' | 'out' | 'readback';

/** Usage flags, read when first used: in Node the WebGPU globals exist only once dawn.node is set up. */
export function usageFlags(use: BufferUse): GPUBufferUsageFlags {
  switch (use) {
    case 'uniform':
      return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    case 'in':
      return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    case 'out':
      return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    case 'readback':
      return GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  }
}

/** Bytes a buffer of `size` takes: whole 16-byte units, never empty. */
export const padded = (size: number) => Math.max(16, Math.ceil(size / 16) * 16);

export class BufferPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  constructor(
    private readonly device: GPUDevice,
    private readonly allocations: Allocations,
    /**
     * Test hook, injected by whoever builds the runtime (src/gpu/testing/faults.ts, the studio's
     * fault switches): asked before each request; true makes that request one the device refuses
     * (past maxBufferSize), as an allocation it cannot make.
     */
    private readonly refuse: () => boolean = () => false,
  ) {}

  get(key: string, size: number, use: BufferUse): GPUBuffer {
    const refused = this.refuse();
    let bytes = padded(size);
    const have = this.buffers.get(key);
    if (have && have.size >= bytes && !refused) return have;
    have?.destroy();
    if (refused) bytes = padded(this.device.limits.maxBufferSize + 1);
    const buffer = this.allocations.track(
      `buffer ${key} (${bytes.toLocaleString('en')} bytes)`,
      () => this.device.createBuffer({ label: key, size: bytes, usage: usageFlags(use) }),
      () => {
        // Never reused: the next request for this key allocates again.
        if (this.buffers.get(key) === buffer) this.buffers.delete(key);
        buffer.destroy();
      },
    );
    this.buffers.set(key, buffer);
    return buffer;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}
