// The GPU runtime every program runs on: the device, allocations under error scopes (a refused one
// fails its call before anything is written to it), a buffer pool, a pipeline cache, dispatch
// shapes, tiles over two pooled buffer sets (tile k+1 uploaded and submitted while tile k computes
// and reads back, also across calls issued without waiting), and one mapped readback per pass,
// handed back as named views. Programs (src/gpu/programs/) say what a pass is; this does it.
import type { Gpu, GpuInfo } from '../device';
import { Allocations } from './allocations';
import { dispatchShape } from './dispatch';
import { Readback, type Binding, type PassSpec, type Upload } from './pass';
import { BufferPool, padded, usageFlags } from './pool';
import { tileElements, tileRanges, type Tile } from './tiles';

/** Buffer sets in flight: one computing or reading back while the next is filled. */
const SLOTS = 2;

export interface RuntimeOptions {
  /** Destroy the device on dispose (when the caller was given a device of its own). */
  readonly ownsDevice?: boolean;
  /** Test hook (see BufferPool): true makes that buffer request one the device refuses. */
  readonly refuseAllocation?: () => boolean;
}

/** A pass's pipeline and buffers, made (not yet known to be valid) and not yet written. */
interface Prepared {
  readonly spec: PassSpec;
  readonly pipeline: GPUComputePipeline;
  readonly groups: [number, number];
  readonly bindings: readonly Binding[];
  readonly buffers: readonly GPUBuffer[];
}

/** Host bytes into a buffer: straight from the caller's memory when whole aligned words, else padded. */
function write(queue: GPUQueue, buffer: GPUBuffer, { at, data }: Upload): void {
  const bytes = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  if (bytes.byteLength > 0 && bytes.byteOffset % 4 === 0 && bytes.byteLength % 4 === 0)
    queue.writeBuffer(buffer, at, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  else {
    const words = new Uint32Array(Math.max(1, Math.ceil(bytes.byteLength / 4)));
    new Uint8Array(words.buffer).set(bytes);
    queue.writeBuffer(buffer, at, words);
  }
}

const whole = (bytes: number) => Math.ceil(bytes / 4) * 4;

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly limits: GpuInfo['limits'];
  /** The optional features the device has (programs pick a variant by them, e.g. 'subgroups'). */
  readonly features: ReadonlySet<GPUFeatureName>;
  private readonly allocations: Allocations;
  private readonly pool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** A number per distinct module text: a program's variants (subgroups or not) are cached apart. */
  private readonly modules = new Map<string, number>();
  /** Per buffer set, the end of the last tile that took it. */
  private readonly slotDone: Promise<void>[] = Array.from({ length: SLOTS }, () => Promise.resolve());
  private turn = 0;

  constructor(
    gpu: Gpu,
    private readonly options: RuntimeOptions = {},
  ) {
    this.device = gpu.device;
    this.limits = gpu.info.limits;
    this.features = new Set(gpu.info.features);
    this.allocations = new Allocations(gpu.device);
    this.pool = new BufferPool(gpu.device, this.allocations, options.refuseAllocation);
  }

  /**
   * `work` on the next buffer set in issue order, once the tile before it on that set is done: at
   * most SLOTS tiles in flight, and their buffers never alias. `work` gets the set's key suffix.
   */
  inSlot<T>(work: (slot: string) => Promise<T>): Promise<T> {
    const slot = this.turn;
    this.turn = (slot + 1) % SLOTS;
    const run = (this.slotDone[slot] as Promise<void>).then(() => work(`#${slot}`));
    this.slotDone[slot] = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Elements per tile for `bytesPerElement` in the largest binding (see tiles.ts). */
  tileElements(bytesPerElement: number, unit: number): number {
    return tileElements(this.limits.maxStorageBufferBindingSize, bytesPerElement, unit);
  }

  /** `numel` elements as tiles of `limit` at most, all issued at once: the buffer sets pace them. */
  tiles<T>(
    numel: number,
    limit: number,
    run: (start: number, end: number, slot: string) => Promise<T>,
  ): Promise<Tile<T>[]> {
    return Promise.all(
      tileRanges(numel, limit).map(([start, end]) =>
        this.inSlot((slot) => run(start, end, slot)).then((out) => ({ start, end, out })),
      ),
    );
  }

  /**
   * One pass on buffer set `slot`: every buffer and the pipeline made, their verdicts awaited (a
   * refused one fails here, before anything is written), inputs written, the dispatch and the
   * copies of the read bindings into one readback submitted, that readback mapped once.
   */
  async run(spec: PassSpec, slot: string): Promise<Readback> {
    const p = this.prepare(spec, slot);
    const ranges = new Map<string, readonly [number, number]>();
    let total = 0;
    for (const b of p.bindings)
      if (b.read) {
        ranges.set(b.name, [total, b.bytes]);
        total += b.bytes;
      }
    const bRead = this.pool.get(`${spec.program}.readback${slot}`, total, 'readback');
    await this.allocations.settled();
    this.upload(p);
    const encoder = this.device.createCommandEncoder({ label: spec.label ?? spec.program });
    this.clear(encoder, p);
    this.encode(encoder.beginComputePass(), p, this.bindGroup(p));
    p.bindings.forEach((b, i) => {
      const range = ranges.get(b.name);
      if (b.read && range) encoder.copyBufferToBuffer(p.buffers[i] as GPUBuffer, 0, bRead, range[0], b.bytes);
    });
    this.device.queue.submit([encoder.finish()]);
    await bRead.mapAsync(GPUMapMode.READ, 0, total);
    const out = bRead.getMappedRange(0, total).slice(0);
    bRead.unmap();
    return new Readback(out, ranges);
  }

  /**
   * A pass's buffers made and written once, on their own buffer set, and what encodes its dispatch
   * on them again and again (the benchmark's view of a kernel alone; nothing is read back).
   */
  resident(spec: PassSpec, slot: string): { encode(pass: GPUComputePassEncoder): void } {
    const p = this.prepare(spec, slot);
    this.upload(p);
    const encoder = this.device.createCommandEncoder({ label: `${spec.program} resident` });
    this.clear(encoder, p);
    this.device.queue.submit([encoder.finish()]);
    const bind = this.bindGroup(p);
    return { encode: (pass) => this.encode(pass, p, bind, false) };
  }

  /**
   * A buffer the caller keeps and destroys (LoRA's factors), made and written under the error
   * scopes: a refused one fails the next pass before it is submitted, and `onRefused` is told (so
   * the caller never binds it again).
   */
  keep(label: string, data: Float32Array, onRefused: () => void = () => {}): GPUBuffer {
    const bytes = padded(data.byteLength);
    const buffer = this.allocations.track(
      `buffer ${label} (${bytes.toLocaleString('en')} bytes)`,
      () => {
        const made = this.device.createBuffer({ label, size: bytes, usage: usageFlags('in') });
        write(this.device.queue, made, { at: 0, data });
        return made;
      },
      () => {
        buffer.destroy();
        onRefused();
      },
    );
    return buffer;
  }

  private prepare(spec: PassSpec, slot: string): Prepared {
    const groups = dispatchShape(spec.workgroups, this.limits.maxComputeWorkgroupsPerDimension);
    const bindings = spec.bindings(groups);
    const buffers = bindings.map(
      (b) => b.kept ?? this.pool.get(`${spec.program}.${b.name}${slot}`, b.bytes, b.use),
    );
    return { spec, pipeline: this.pipeline(spec), groups, bindings, buffers };
  }

  private pipeline({ program, code, constants }: PassSpec): GPUComputePipeline {
    let id = this.modules.get(code);
    if (id === undefined) this.modules.set(code, (id = this.modules.size));
    const key = `${program}/${id} ${JSON.stringify(constants)}`;
    const have = this.pipelines.get(key);
    if (have) return have;
    const made = this.allocations.track(
      `the ${program} pipeline`,
      () =>
        this.device.createComputePipeline({
          label: key,
          layout: 'auto',
          compute: {
            module: this.device.createShaderModule({ label: program, code }),
            entryPoint: 'main',
            constants,
          },
        }),
      () => {
        if (this.pipelines.get(key) === made) this.pipelines.delete(key);
      },
    );
    this.pipelines.set(key, made);
    return made;
  }

  private upload({ bindings, buffers }: Prepared): void {
    bindings.forEach((b, i) => {
      if (b.init && b.init !== 'zero')
        for (const u of b.init) write(this.device.queue, buffers[i] as GPUBuffer, u);
    });
  }

  private clear(encoder: GPUCommandEncoder, { bindings, buffers }: Prepared): void {
    bindings.forEach((b, i) => {
      if (b.init === 'zero') encoder.clearBuffer(buffers[i] as GPUBuffer, 0, whole(b.bytes));
    });
  }

  private bindGroup({ pipeline, buffers }: Prepared): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  private encode(pass: GPUComputePassEncoder, p: Prepared, bind: GPUBindGroup, end = true): void {
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(...p.groups);
    if (end) pass.end();
  }

  dispose(): void {
    this.pool.destroy();
    this.pipelines.clear();
    if (this.options.ownsDevice) this.device.destroy();
  }
}
