// The WebGPU merge engine: every method runs on WGSL kernels (shaders/merge/) — EMR's fused
// elect/mask pass and reconstruction, averaging and Task Arithmetic, TIES's radix histogram and
// trimmed election; the CPU engine's kernels are their twins and the tests hold them equal.
// Inputs go up in their stored dtype (f32/f16/bf16 words; the shaders decode them), the N task
// chunks packed in one buffer, and every output of a tile comes back in one mapped read.
// Pipelined: a chunk goes up in tiles over two pooled buffer sets, so tile k+1 is uploaded
// and submitted while tile k computes and reads back (also across calls issued without waiting).
// Their results equal the CPU twins' bit for bit on any device (shaders/merge/exact.wgsl): a kernel
// that meets a value outside the range where that holds (subnormal, tiny, huge, NaN, ±∞) says so,
// and that tile is recomputed by the CPU twin — rare in real checkpoints, and then exact rather than
// device-dependent. The same flag counts NaN/±∞ (`nonFinite`): a tile the kernel kept has none (it
// checked every input it reads, and averaging checks the base it does not read for finiteness), and
// a flagged tile's count is the CPU twin's.
import dtypeWgsl from '../../shaders/merge/dtype.wgsl?raw';
import exactWgsl from '../../shaders/merge/exact.wgsl?raw';
import electWgsl from '../../shaders/merge/emr_elect.wgsl?raw';
import reconstructWgsl from '../../shaders/merge/emr_reconstruct.wgsl?raw';
import linearWgsl from '../../shaders/merge/linear.wgsl?raw';
import histogramWgsl from '../../shaders/merge/abs_histogram.wgsl?raw';
import tiesWgsl from '../../shaders/merge/ties.wgsl?raw';
import { dtypeBytes, type MergeDType } from '../formats/dtype';
import { CpuEngine } from '../merge/cpu/engine';
import { maskWords } from '../merge/cpu/kernels';
import type {
  ChunkInput,
  EmrChunkOut,
  LinearChunkOut,
  MergeEngine,
  RawChunk,
  TiesChunkOut,
} from '../merge/engine';
import type { Gpu } from './device';
import { dispatchShape } from './reduce';

const ELECT_WORKGROUP = 64;
const RECONSTRUCT_WORKGROUP = 256;
const LINEAR_WORKGROUP = 256;
/**
 * Packed task bytes per pipelined tile: small enough that a chunk makes several tiles (upload of one
 * overlaps the compute of the other), large enough to fill a GPU. A multiple of the elect kernel's
 * span (ELECT_WORKGROUP words of 32 elements), so its per-workgroup partials, added in order in f64,
 * are the same whatever the tiling.
 */
const PIPELINE_TILE_BYTES = 32 * 2 ** 20;
const ELECT_SPAN = ELECT_WORKGROUP * 32;
/** Buffer sets in flight: one computing or reading back while the next is filled. */
const SLOTS = 2;
/** The elect kernel keeps per-task state in private arrays of this size (prepended as its MAX_TASKS). */
export const MAX_GPU_TASKS = 64;

const DTYPE_CODE: Record<MergeDType, number> = { F32: 0, F16: 1, BF16: 2 };

/** λ the kernels' exact product takes (exact.wgsl): 0 or 2^-20 ≤ |λ| ≤ 2^20 as an f32; else the CPU twin. */
function lambdaInRange(lambda: number): boolean {
  const l = Math.abs(Math.fround(lambda));
  return l === 0 || (l >= 2 ** -20 && l <= 2 ** 20);
}

/** TIES thresholds the kernel compares with exactly on any device: finite, 0 or normal. */
function thresholdsInRange(thresholds: Float32Array): boolean {
  return thresholds.every((x) => x === 0 || (Math.abs(x) >= 2 ** -126 && Math.abs(x) < Infinity));
}

/** Bytes of a chunk as whole u32 words (4-aligned and padded: the shader reads words). */
function words(bytes: Uint8Array): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(Math.max(1, Math.ceil(bytes.byteLength / 4)));
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Buffer sizes of a tile's inputs: the base's words, and the N task chunks packed in one buffer. */
function inputLayout(chunk: ChunkInput): { baseBytes: number; tasksBytes: number; stride: number } {
  const taskDtype = chunk.tasks[0]?.dtype ?? 'F32';
  /** Words per task chunk: task t starts at t·stride words. */
  const stride = Math.max(1, Math.ceil((chunk.numel * dtypeBytes(taskDtype)) / 4));
  const baseBytes = Math.max(1, Math.ceil((chunk.numel * dtypeBytes(chunk.base.dtype)) / 4)) * 4;
  return { baseBytes, tasksBytes: stride * 4 * chunk.tasks.length, stride };
}

/**
 * Uploads `numel` elements of a raw chunk as u32 words at byte `offset`: straight from the caller's
 * memory when they are whole aligned words (no copy on the host), else through a padded copy.
 */
function writeWords(queue: GPUQueue, buffer: GPUBuffer, offset: number, c: RawChunk, numel: number): void {
  const bytes = c.bytes.subarray(0, numel * dtypeBytes(c.dtype));
  if (bytes.byteLength > 0 && bytes.byteOffset % 4 === 0 && bytes.byteLength % 4 === 0)
    queue.writeBuffer(buffer, offset, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  else queue.writeBuffer(buffer, offset, words(bytes));
}

/** A tile's base and task chunks into their buffers (task t at t·stride words). */
function writeInputs(
  queue: GPUQueue,
  chunk: ChunkInput,
  base: GPUBuffer,
  tasks: GPUBuffer,
  stride: number,
): void {
  writeWords(queue, base, 0, chunk.base, chunk.numel);
  chunk.tasks.forEach((t, i) => writeWords(queue, tasks, i * stride * 4, t, chunk.numel));
}

/** A buffer or pipeline the device refused: out of memory, or a request it rejects (validation). */
export class GpuAllocationError extends Error {
  override readonly name = 'GpuAllocationError';
  constructor(
    /** What was asked for, e.g. "buffer elect.tasks#0 (402 653 184 bytes)". */
    readonly what: string,
    readonly kind: 'out-of-memory' | 'validation',
    detail: string,
  ) {
    super(
      `the GPU could not allocate ${what}: ${kind === 'out-of-memory' ? 'out of memory' : 'request refused'}${detail ? ` (${detail})` : ''}`,
    );
  }
}

/**
 * Buffer and pipeline creation under the device's 'out-of-memory' and 'validation' error scopes: a
 * refused allocation gives an invalid object and no exception, so the scopes' verdicts are kept and
 * awaited (`settled`) before any work that uses the objects is submitted — the call then fails at
 * once with a GpuAllocationError instead of computing on invalid buffers.
 */
class Allocations {
  private pending: Promise<void>[] = [];
  constructor(private readonly device: GPUDevice) {}

  track<T>(what: string, make: () => T, onRefused: () => void): T {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    try {
      return make();
    } finally {
      const validation = this.device.popErrorScope();
      const outOfMemory = this.device.popErrorScope();
      const verdict = Promise.all([outOfMemory, validation]).then(([o, v]) => {
        if (!o && !v) return;
        onRefused();
        throw new GpuAllocationError(what, o ? 'out-of-memory' : 'validation', (o ?? v)?.message ?? '');
      });
      verdict.catch(() => {}); // reported by settled()
      this.pending.push(verdict);
    }
  }

  /** The verdicts since the last call: undefined when there were none (no promise per chunk). */
  settled(): Promise<void> | undefined {
    if (this.pending.length === 0) return undefined;
    const all = Promise.all(this.pending).then(() => undefined);
    this.pending = [];
    return all;
  }
}

/** Buffers that grow to the largest request and are reused: no allocation per chunk. */
class BufferPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  /** Test hook: the next request asks the device for more than it allows, so it is refused. */
  refuseNext = false;
  constructor(
    private readonly device: GPUDevice,
    private readonly allocations: Allocations,
  ) {}
  get(key: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    let padded = Math.max(16, Math.ceil(size / 16) * 16);
    const have = this.buffers.get(key);
    if (have && have.size >= padded && !this.refuseNext) return have;
    have?.destroy();
    if (this.refuseNext) {
      this.refuseNext = false;
      padded = Math.ceil((this.device.limits.maxBufferSize + 1) / 16) * 16;
    }
    const buffer = this.allocations.track(
      `buffer ${key} (${padded.toLocaleString('en')} bytes)`,
      () => this.device.createBuffer({ label: key, size: padded, usage }),
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

/** Buffer usages, read when first used: in Node the WebGPU globals exist only once dawn.node is set up. */
const usage = () => ({
  storageIn: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  storageOut: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  readback: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  uniform: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
});

/** An EMR tile as the GPU gives it: per-workgroup f32 partials (|τ_t|, |M_t ⊙ τ_uni|) per task. */
interface GpuEmrTile {
  readonly tauUni: Float32Array<ArrayBuffer>;
  readonly masks: Uint32Array<ArrayBuffer>;
  readonly partials: Float32Array;
  readonly conflicts: number;
}

/** The NaN/±∞ counts of a tile the kernels kept: none (see the top of this file). */
const noneNonFinite = (numTasks: number) => new Uint32Array(1 + numTasks);

/** Adds `part`'s counts to `total`, model by model. */
function addCounts(total: Uint32Array, part: Uint32Array): void {
  part.forEach((c, m) => (total[m] = (total[m] as number) + c));
}

/** Adds a tile's partials to the chunk's sums, workgroup by workgroup, in f64. */
function addPartials(
  partials: Float32Array,
  numTasks: number,
  sumAbsTau: Float64Array,
  sumAbsMasked: Float64Array,
): void {
  const groups = partials.length / (numTasks * 2);
  for (let g = 0; g < groups; g++) {
    for (let t = 0; t < numTasks; t++) {
      sumAbsTau[t] = (sumAbsTau[t] as number) + (partials[(g * numTasks + t) * 2] as number);
      sumAbsMasked[t] = (sumAbsMasked[t] as number) + (partials[(g * numTasks + t) * 2 + 1] as number);
    }
  }
}

export class GpuEngine implements MergeEngine {
  readonly kind = 'gpu' as const;
  /** Calls issued together pipeline (two buffer sets): the scheduler keeps one more in flight. */
  readonly overlap = true;
  readonly description: string;
  private readonly device: GPUDevice;
  private readonly allocations: Allocations;
  private readonly pool: BufferPool;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly cpu = new CpuEngine();

  constructor(
    private readonly gpu: Gpu,
    /** Destroy the device on dispose (when the engine was given a device of its own). */
    private readonly ownsDevice = false,
  ) {
    this.device = gpu.device;
    this.allocations = new Allocations(gpu.device);
    this.pool = new BufferPool(gpu.device, this.allocations);
    this.description = `GPU: ${gpu.info.name}${gpu.info.isSoftware ? ' (software adapter)' : ''}`;
  }

  private pipeline(
    kind: 'elect' | 'reconstruct' | 'linear' | 'histogram' | 'ties',
    constants: Record<string, number>,
  ): GPUComputePipeline {
    const key = `${kind} ${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code =
        `const MAX_TASKS: u32 = ${MAX_GPU_TASKS}u;\n` +
        dtypeWgsl +
        exactWgsl +
        {
          elect: electWgsl,
          reconstruct: reconstructWgsl,
          linear: linearWgsl,
          histogram: histogramWgsl,
          ties: tiesWgsl,
        }[kind];
      const made = this.allocations.track(
        `the ${kind} pipeline`,
        () =>
          this.device.createComputePipeline({
            label: key,
            layout: 'auto',
            compute: {
              module: this.device.createShaderModule({ label: kind, code }),
              entryPoint: 'main',
              constants,
            },
          }),
        () => {
          if (this.pipelines.get(key) === made) this.pipelines.delete(key);
        },
      );
      this.pipelines.set(key, made);
      p = made;
    }
    return p;
  }

  /**
   * Fails with the GpuAllocationError of any buffer or pipeline refused since the last check, before
   * anything is written to it or submitted. Nothing to wait for when nothing was allocated.
   */
  private allocated(): Promise<void> | void {
    return this.allocations.settled();
  }

  /**
   * Largest tile (elements) whose N packed task chunks fit one binding and PIPELINE_TILE_BYTES: a
   * multiple of ELECT_SPAN where that fits, else of 32 (tiny forced limits in tests).
   */
  private maxElements(numTasks: number, dtype: MergeDType): number {
    const perElement = Math.max(4, numTasks * dtypeBytes(dtype)); // τ_uni and outputs are f32
    const binding = Math.floor(this.gpu.info.limits.maxStorageBufferBindingSize / perElement);
    const pipelined = Math.floor(PIPELINE_TILE_BYTES / perElement / ELECT_SPAN) * ELECT_SPAN;
    const elements = Math.min(binding, Math.max(ELECT_SPAN, pipelined));
    const unit = elements >= ELECT_SPAN ? ELECT_SPAN : 32;
    return Math.max(32, Math.floor(elements / unit) * unit);
  }

  /** The chunk as tiles (see maxElements), each with its first element. */
  private tiles(chunk: ChunkInput): { start: number; tile: ChunkInput }[] {
    const limit = this.maxElements(chunk.tasks.length, chunk.tasks[0]?.dtype ?? 'F32');
    if (chunk.numel <= limit) return [{ start: 0, tile: chunk }];
    const out: { start: number; tile: ChunkInput }[] = [];
    for (let start = 0; start < chunk.numel; start += limit) {
      const numel = Math.min(limit, chunk.numel - start);
      const cut = (c: RawChunk): RawChunk => {
        const s = dtypeBytes(c.dtype);
        return { bytes: c.bytes.subarray(start * s, (start + numel) * s), dtype: c.dtype };
      };
      out.push({ start, tile: { numel, base: cut(chunk.base), tasks: chunk.tasks.map(cut) } });
    }
    return out;
  }

  /**
   * Buffer sets: a tile takes the next set in issue order and holds it until its readback is
   * copied out, so at most SLOTS tiles are in flight and their buffers never alias. `work` gets the
   * set's pool-key suffix.
   */
  private readonly slotDone: Promise<void>[] = Array.from({ length: SLOTS }, () => Promise.resolve());
  private turn = 0;
  private inSlot<T>(work: (slot: string) => Promise<T>): Promise<T> {
    const slot = this.turn;
    this.turn = (slot + 1) % SLOTS;
    const previous = this.slotDone[slot] as Promise<void>;
    const run = previous.then(() => work(`#${slot}`));
    this.slotDone[slot] = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  emr(chunk: ChunkInput): Promise<EmrChunkOut> {
    return this.emrChunk(chunk);
  }

  emrReconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ): Promise<Uint8Array<ArrayBuffer>> {
    return this.reconstruct(base, tauUni, mask, maskOffsetWords, lambda, dtype);
  }

  private async emrChunk(chunk: ChunkInput): Promise<EmrChunkOut> {
    const numTasks = chunk.tasks.length;
    if (numTasks > MAX_GPU_TASKS)
      throw new RangeError(`the GPU engine merges up to ${MAX_GPU_TASKS} tasks at once; got ${numTasks}`);
    const taskDtype = chunk.tasks[0]?.dtype ?? 'F32';
    if (chunk.tasks.some((t) => t.dtype !== taskDtype)) return this.cpu.emr(chunk); // mixed dtypes: rare; CPU twin
    // All tiles issued at once: the buffer sets pace them, and the next uploads while one computes.
    const tiles = this.tiles(chunk);
    const parts = await Promise.all(tiles.map(({ tile }) => this.emrTile(tile)));
    const totalWords = maskWords(chunk.numel);
    const one = tiles.length === 1;
    const tauUni = one ? undefined : new Float32Array(chunk.numel);
    const masks = one ? undefined : new Uint32Array(numTasks * totalWords);
    const sumAbsTau = new Float64Array(numTasks);
    const sumAbsMasked = new Float64Array(numTasks);
    const nonFinite = noneNonFinite(numTasks);
    let conflicts = 0;
    parts.forEach((r, i) => {
      const { start, tile } = tiles[i] as (typeof tiles)[number];
      if ('nonFinite' in r) addCounts(nonFinite, r.nonFinite);
      if (tauUni && masks) {
        tauUni.set(r.tauUni, start);
        const w = maskWords(tile.numel);
        for (let t = 0; t < numTasks; t++)
          masks.set(r.masks.subarray(t * w, (t + 1) * w), t * totalWords + start / 32);
      }
      // In workgroup order across tiles: the same f64 sums whatever the tiling.
      if ('partials' in r) addPartials(r.partials, numTasks, sumAbsTau, sumAbsMasked);
      else
        for (let t = 0; t < numTasks; t++) {
          sumAbsTau[t] = (sumAbsTau[t] as number) + (r.sumAbsTau[t] as number);
          sumAbsMasked[t] = (sumAbsMasked[t] as number) + (r.sumAbsMasked[t] as number);
        }
      conflicts += r.conflicts;
    });
    const first = parts[0] as (typeof parts)[number];
    return {
      tauUni: tauUni ?? first.tauUni,
      masks: masks ?? first.masks,
      sumAbsTau,
      sumAbsMasked,
      conflicts,
      nonFinite,
    };
  }

  /** One tile's pass: the GPU's per-workgroup partials, or the CPU twin's result when out of range. */
  private emrTile(chunk: ChunkInput): Promise<EmrChunkOut | GpuEmrTile> {
    return this.inSlot((slot) => this.emrTileIn(chunk, slot));
  }

  private async emrTileIn(chunk: ChunkInput, slot: string): Promise<EmrChunkOut | GpuEmrTile> {
    const { pipeline, buffers, groups, sizes, allGroups, upload } = this.electBuffers(chunk, slot);
    await this.allocated();
    upload();
    const [bTau, bMasks, bPartials, bTotals] = buffers.slice(3) as [
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
    ];
    const mapped = await this.runPass(
      'emr elect',
      pipeline,
      buffers,
      groups,
      [
        [bTau, sizes.tau],
        [bMasks, sizes.masks],
        [bPartials, sizes.partials],
        [bTotals, sizes.totals],
      ],
      `elect.readback${slot}`,
    );
    const n = chunk.numel;
    const numTasks = chunk.tasks.length;
    const tauUni = new Float32Array(mapped, 0, n);
    const masks = new Uint32Array(mapped, sizes.tau, numTasks * maskWords(n));
    const partials = new Float32Array(mapped, sizes.tau + sizes.masks, allGroups * numTasks * 2);
    const totals = new Uint32Array(mapped, sizes.tau + sizes.masks + sizes.partials, 2);
    if (totals[1]) return this.cpu.emr(chunk); // out of range
    return { tauUni, masks, partials, conflicts: totals[0] as number };
  }

  /**
   * The benchmark's view of the elect kernel alone: uploads one tile (binding-sized at most) once
   * and returns what encodes its dispatch on those resident buffers.
   */
  residentElect(chunk: ChunkInput): { encode(pass: GPUComputePassEncoder): void; inputBytes: number } {
    const { pipeline, buffers, groups, upload } = this.electBuffers(chunk, '#resident');
    upload();
    const bind = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return {
      inputBytes: chunk.base.bytes.byteLength + chunk.tasks.reduce((a, t) => a + t.bytes.byteLength, 0),
      encode(pass) {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(...groups);
      },
    };
  }

  /**
   * The elect pass's bindings for a tile, in order, from the slot's buffers, and `upload`, which packs
   * and writes the tile's inputs into them (once they are known to be allocated).
   */
  private electBuffers(chunk: ChunkInput, slot: string) {
    const { device, pool } = this;
    const { storageIn, storageOut, uniform } = usage();
    const n = chunk.numel;
    const numTasks = chunk.tasks.length;
    const taskDtype = (chunk.tasks[0] as RawChunk).dtype;
    const wordsOut = maskWords(n);
    const { baseBytes, tasksBytes, stride } = inputLayout(chunk);
    const groups = Math.max(1, Math.ceil(wordsOut / ELECT_WORKGROUP));
    const [gx, gy] = dispatchShape(groups, this.gpu.info.limits.maxComputeWorkgroupsPerDimension);
    const allGroups = gx * gy;

    const params = new Uint32Array([n, numTasks, stride, gx]);

    const sizes = {
      tau: n * 4,
      masks: numTasks * wordsOut * 4,
      partials: allGroups * numTasks * 2 * 4,
      totals: 8,
    };
    const bParams = pool.get(`elect.params${slot}`, params.byteLength, uniform);
    const bBase = pool.get(`elect.base${slot}`, baseBytes, storageIn);
    const bTasks = pool.get(`elect.tasks${slot}`, tasksBytes, storageIn);
    const bTau = pool.get(`elect.tau${slot}`, sizes.tau, storageOut);
    const bMasks = pool.get(`elect.masks${slot}`, sizes.masks, storageOut);
    const bPartials = pool.get(`elect.partials${slot}`, sizes.partials, storageOut);
    const bTotals = pool.get(`elect.totals${slot}`, sizes.totals, storageOut);
    const upload = () => {
      device.queue.writeBuffer(bParams, 0, params);
      writeInputs(device.queue, chunk, bBase, bTasks, stride);
      device.queue.writeBuffer(bTotals, 0, new Uint32Array(2));
    };
    const pipeline = this.pipeline('elect', {
      WORKGROUP_SIZE: ELECT_WORKGROUP,
      BASE_DTYPE: DTYPE_CODE[chunk.base.dtype],
      TASK_DTYPE: DTYPE_CODE[taskDtype],
    });
    const buffers = [bParams, bBase, bTasks, bTau, bMasks, bPartials, bTotals];
    return { pipeline, buffers, groups: [gx, gy] as [number, number], sizes, allGroups, upload };
  }

  /** Reconstruction in binding-sized tiles (τ_uni, f32, is its largest binding). */
  private async reconstruct(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const n = tauUni.length;
    const limit = Math.max(32, Math.floor(this.gpu.info.limits.maxStorageBufferBindingSize / 4 / 32) * 32);
    if (n <= limit) return this.reconstructTile(base, tauUni, mask, maskOffsetWords, lambda, dtype);
    const size = dtypeBytes(dtype);
    const baseSize = dtypeBytes(base.dtype);
    const starts = Array.from({ length: Math.ceil(n / limit) }, (_, i) => i * limit);
    const parts = await Promise.all(
      starts.map((start) => {
        const end = Math.min(n, start + limit);
        const tile = { bytes: base.bytes.subarray(start * baseSize, end * baseSize), dtype: base.dtype };
        const tau = tauUni.subarray(start, end);
        return this.reconstructTile(tile, tau, mask, maskOffsetWords + start / 32, lambda, dtype);
      }),
    );
    const out = new Uint8Array(n * size);
    parts.forEach((part, i) => out.set(part, (starts[i] as number) * size));
    return out;
  }

  private reconstructTile(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
  ): Promise<Uint8Array<ArrayBuffer>> {
    return this.inSlot((slot) =>
      this.reconstructTileIn(base, tauUni, mask, maskOffsetWords, lambda, dtype, slot),
    );
  }

  private async reconstructTileIn(
    base: RawChunk,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    dtype: MergeDType,
    slot: string,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const { device, pool } = this;
    const { storageIn, storageOut, uniform } = usage();
    const n = tauUni.length;
    const outBytes = n * dtypeBytes(dtype);
    if (n === 0) return new Uint8Array(0);
    if (!lambdaInRange(lambda))
      return this.cpu.emrReconstruct(base, tauUni, mask, maskOffsetWords, lambda, dtype);
    const outWords = Math.ceil(outBytes / 4);
    const [gx, gy] = dispatchShape(
      Math.ceil(outWords / RECONSTRUCT_WORKGROUP),
      this.gpu.info.limits.maxComputeWorkgroupsPerDimension,
    );
    const maskSlice = mask.slice(maskOffsetWords, maskOffsetWords + maskWords(n));
    const baseBytes = Math.max(1, Math.ceil((n * dtypeBytes(base.dtype)) / 4)) * 4;
    const params = new ArrayBuffer(16);
    new Uint32Array(params, 0, 2).set([n, gx]);
    new Float32Array(params, 8, 1)[0] = lambda;
    const bParams = pool.get(`rec.params${slot}`, 16, uniform);
    const bBase = pool.get(`rec.base${slot}`, baseBytes, storageIn);
    const bTau = pool.get(`rec.tau${slot}`, n * 4, storageIn);
    const bMask = pool.get(`rec.mask${slot}`, maskSlice.byteLength, storageIn);
    const bOut = pool.get(`rec.out${slot}`, outWords * 4, storageOut);
    const bFlag = pool.get(`rec.flag${slot}`, 4, storageOut);
    await this.allocated();
    device.queue.writeBuffer(bParams, 0, params);
    device.queue.writeBuffer(bFlag, 0, new Uint32Array(1));
    writeWords(device.queue, bBase, 0, base, n);
    device.queue.writeBuffer(bTau, 0, tauUni.buffer, tauUni.byteOffset, n * 4);
    device.queue.writeBuffer(bMask, 0, maskSlice);
    const pipeline = this.pipeline('reconstruct', {
      WORKGROUP_SIZE: RECONSTRUCT_WORKGROUP,
      BASE_DTYPE: DTYPE_CODE[base.dtype],
      OUT_DTYPE: DTYPE_CODE[dtype],
    });
    const out = await this.runPass(
      'emr reconstruct',
      pipeline,
      [bParams, bBase, bTau, bMask, bOut, bFlag],
      [gx, gy],
      [
        [bOut, outWords * 4],
        [bFlag, 4],
      ],
      `rec.readback${slot}`,
    );
    if (new Uint32Array(out, outWords * 4, 1)[0])
      return this.cpu.emrReconstruct(base, tauUni, mask, maskOffsetWords, lambda, dtype);
    return new Uint8Array(out, 0, outBytes);
  }

  average(chunk: ChunkInput): Promise<LinearChunkOut> {
    return this.linear(chunk, 0, 0);
  }
  taskArithmetic(chunk: ChunkInput, lambda: number): Promise<LinearChunkOut> {
    return this.linear(chunk, 1, lambda);
  }

  /** Averaging (mode 0) or Task Arithmetic (mode 1), in binding-sized tiles. */
  private async linear(chunk: ChunkInput, mode: 0 | 1, lambda: number): Promise<LinearChunkOut> {
    if (!this.fitsKernels(chunk) || (mode === 1 && !lambdaInRange(lambda)))
      return this.cpuLinear(chunk, mode, lambda);
    const tiles = this.tiles(chunk);
    const parts = await Promise.all(tiles.map(({ tile }) => this.linearTile(tile, mode, lambda)));
    if (parts.length === 1) return parts[0] as LinearChunkOut;
    const merged = new Float32Array(chunk.numel);
    const nonFinite = noneNonFinite(chunk.tasks.length);
    parts.forEach((part, i) => {
      merged.set(part.merged, (tiles[i] as (typeof tiles)[number]).start);
      addCounts(nonFinite, part.nonFinite);
    });
    return { merged, nonFinite };
  }

  private cpuLinear(chunk: ChunkInput, mode: 0 | 1, lambda: number): Promise<LinearChunkOut> {
    return mode ? this.cpu.taskArithmetic(chunk, lambda) : this.cpu.average(chunk);
  }

  private linearTile(chunk: ChunkInput, mode: 0 | 1, lambda: number): Promise<LinearChunkOut> {
    return this.inSlot((slot) => this.linearTileIn(chunk, mode, lambda, slot));
  }

  private async linearTileIn(
    chunk: ChunkInput,
    mode: 0 | 1,
    lambda: number,
    slot: string,
  ): Promise<LinearChunkOut> {
    const { device, pool } = this;
    const { storageIn, storageOut, uniform } = usage();
    const n = chunk.numel;
    if (n === 0) return { merged: new Float32Array(0), nonFinite: noneNonFinite(chunk.tasks.length) };
    const { baseBytes, tasksBytes, stride } = inputLayout(chunk);
    const [gx, gy] = dispatchShape(
      Math.ceil(n / LINEAR_WORKGROUP),
      this.gpu.info.limits.maxComputeWorkgroupsPerDimension,
    );
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 4).set([n, chunk.tasks.length, stride, gx]);
    new Float32Array(params, 16, 1)[0] = lambda;
    const bParams = pool.get(`lin.params${slot}`, 32, uniform);
    const bBase = pool.get(`lin.base${slot}`, baseBytes, storageIn);
    const bTasks = pool.get(`lin.tasks${slot}`, tasksBytes, storageIn);
    const bOut = pool.get(`lin.out${slot}`, n * 4, storageOut);
    const bFlag = pool.get(`lin.flag${slot}`, 4, storageOut);
    await this.allocated();
    device.queue.writeBuffer(bParams, 0, params);
    writeInputs(device.queue, chunk, bBase, bTasks, stride);
    device.queue.writeBuffer(bFlag, 0, new Uint32Array(1));
    const pipeline = this.pipeline('linear', {
      WORKGROUP_SIZE: LINEAR_WORKGROUP,
      MODE: mode,
      BASE_DTYPE: DTYPE_CODE[chunk.base.dtype],
      TASK_DTYPE: DTYPE_CODE[(chunk.tasks[0] as RawChunk).dtype],
    });
    const out = await this.runPass(
      mode ? 'task arithmetic' : 'average',
      pipeline,
      [bParams, bBase, bTasks, bOut, bFlag],
      [gx, gy],
      [
        [bOut, n * 4],
        [bFlag, 4],
      ],
      `lin.readback${slot}`,
    );
    if (new Uint32Array(out, n * 4, 1)[0]) return this.cpuLinear(chunk, mode, lambda);
    return { merged: new Float32Array(out, 0, n), nonFinite: noneNonFinite(chunk.tasks.length) };
  }

  absHistogram(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
    counts: Uint32Array,
  ): Promise<void> {
    return (async () => {
      if (!this.fitsKernels(chunk)) return this.cpu.absHistogram(chunk, level, prefix, counts);
      // Counted whole before anything is added: a failure never leaves part of a chunk in `counts`.
      const parts = await Promise.all(
        this.tiles(chunk).map(async ({ tile }) => {
          const part = await this.histogramTile(tile, level, prefix);
          if (part) return part;
          const counted = new Uint32Array(counts.length);
          await this.cpu.absHistogram(tile, level, prefix, counted);
          return counted;
        }),
      );
      for (const part of parts)
        for (let i = 0; i < counts.length; i++) counts[i] = (counts[i] as number) + (part[i] as number);
    })();
  }

  ties(chunk: ChunkInput, thresholds: Float32Array, lambda: number): Promise<TiesChunkOut> {
    return (async () => {
      if (!this.fitsKernels(chunk) || !lambdaInRange(lambda) || !thresholdsInRange(thresholds))
        return this.cpu.ties(chunk, thresholds, lambda);
      const tiles = this.tiles(chunk);
      const parts = await Promise.all(tiles.map(({ tile }) => this.tiesTile(tile, thresholds, lambda)));
      if (parts.length === 1) return parts[0] as TiesChunkOut;
      const merged = new Float32Array(chunk.numel);
      const pending: TiesChunkOut['pending'][number][] = [];
      const nonFinite = noneNonFinite(chunk.tasks.length);
      let signSum = 0;
      parts.forEach((r, i) => {
        const { start } = tiles[i] as (typeof tiles)[number];
        merged.set(r.merged, start);
        signSum += r.signSum;
        for (const q of r.pending) pending.push({ ...q, index: q.index + start });
        addCounts(nonFinite, r.nonFinite);
      });
      return { merged, signSum, pending, nonFinite };
    })();
  }

  /**
   * The kernels read every task chunk in one dtype, and divide by at most MAX_GPU_TASKS (exact.wgsl's
   * div_rn); a chunk mixing dtypes, or with more tasks, goes to the CPU twin.
   */
  private fitsKernels(chunk: ChunkInput): boolean {
    const d = chunk.tasks[0]?.dtype;
    return chunk.tasks.length <= MAX_GPU_TASKS && chunk.tasks.every((t) => t.dtype === d);
  }

  /** One compute pass over `buffers` bound in order, then `copies` into one readback buffer, mapped once. */
  private async runPass(
    label: string,
    pipeline: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
    groups: [number, number],
    copies: readonly (readonly [GPUBuffer, number])[],
    readbackKey: string,
    before?: (encoder: GPUCommandEncoder) => void,
  ): Promise<ArrayBuffer> {
    const { device, pool } = this;
    const total = copies.reduce((a, [, size]) => a + size, 0);
    const bRead = pool.get(readbackKey, total, usage().readback);
    // Every buffer and pipeline of this pass is made by now: a refused one fails the call here.
    await this.allocated();
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder({ label });
    before?.(encoder);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(...groups);
    pass.end();
    let at = 0;
    for (const [src, size] of copies) {
      encoder.copyBufferToBuffer(src, 0, bRead, at, size);
      at += size;
    }
    device.queue.submit([encoder.finish()]);
    await bRead.mapAsync(GPUMapMode.READ, 0, total);
    const out = bRead.getMappedRange(0, total).slice(0);
    bRead.unmap();
    return out;
  }

  private histogramTile(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
  ): Promise<Uint32Array | undefined> {
    return this.inSlot((slot) => this.histogramTileIn(chunk, level, prefix, slot));
  }

  private async histogramTileIn(
    chunk: ChunkInput,
    level: 0 | 1,
    prefix: Uint32Array | undefined,
    slot: string,
  ): Promise<Uint32Array | undefined> {
    const { device, pool } = this;
    const { storageIn, storageOut, uniform } = usage();
    const numTasks = chunk.tasks.length;
    const { baseBytes, tasksBytes, stride } = inputLayout(chunk);
    const [gx, gy] = dispatchShape(
      Math.max(1, Math.ceil(chunk.numel / LINEAR_WORKGROUP)),
      this.gpu.info.limits.maxComputeWorkgroupsPerDimension,
    );
    const countBytes = numTasks * 65536 * 4;
    const bParams = pool.get(`hist.params${slot}`, 16, uniform);
    const bBase = pool.get(`hist.base${slot}`, baseBytes, storageIn);
    const bTasks = pool.get(`hist.tasks${slot}`, tasksBytes, storageIn);
    const bPrefix = pool.get(`hist.prefix${slot}`, numTasks * 4, storageIn);
    const bCounts = pool.get(`hist.counts${slot}`, countBytes, storageOut);
    const bFlag = pool.get(`hist.flag${slot}`, 4, storageOut);
    await this.allocated();
    device.queue.writeBuffer(bFlag, 0, new Uint32Array(1));
    device.queue.writeBuffer(bParams, 0, new Uint32Array([chunk.numel, numTasks, stride, gx]));
    writeInputs(device.queue, chunk, bBase, bTasks, stride);
    device.queue.writeBuffer(bPrefix, 0, prefix ?? new Uint32Array(numTasks));
    const pipeline = this.pipeline('histogram', {
      WORKGROUP_SIZE: LINEAR_WORKGROUP,
      LEVEL: level,
      BASE_DTYPE: DTYPE_CODE[chunk.base.dtype],
      TASK_DTYPE: DTYPE_CODE[(chunk.tasks[0] as RawChunk).dtype],
    });
    const out = await this.runPass(
      'abs histogram',
      pipeline,
      [bParams, bBase, bTasks, bPrefix, bCounts, bFlag],
      [gx, gy],
      [
        [bCounts, countBytes],
        [bFlag, 4],
      ],
      `hist.readback${slot}`,
      (encoder) => encoder.clearBuffer(bCounts, 0, countBytes),
    );
    return new Uint32Array(out, countBytes, 1)[0] ? undefined : new Uint32Array(out, 0, countBytes / 4);
  }

  private tiesTile(chunk: ChunkInput, thresholds: Float32Array, lambda: number): Promise<TiesChunkOut> {
    return this.inSlot((slot) => this.tiesTileIn(chunk, thresholds, lambda, slot));
  }

  private async tiesTileIn(
    chunk: ChunkInput,
    thresholds: Float32Array,
    lambda: number,
    slot: string,
  ): Promise<TiesChunkOut> {
    const { device, pool } = this;
    const { storageIn, storageOut, uniform } = usage();
    const n = chunk.numel;
    const numTasks = chunk.tasks.length;
    const words = maskWords(n);
    const { baseBytes, tasksBytes, stride } = inputLayout(chunk);
    const [gx, gy] = dispatchShape(
      Math.max(1, Math.ceil(words / ELECT_WORKGROUP)),
      this.gpu.info.limits.maxComputeWorkgroupsPerDimension,
    );
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 4).set([n, numTasks, stride, gx]);
    new Float32Array(params, 16, 1)[0] = lambda;
    const bParams = pool.get(`ties.params${slot}`, 32, uniform);
    const bBase = pool.get(`ties.base${slot}`, baseBytes, storageIn);
    const bTasks = pool.get(`ties.tasks${slot}`, tasksBytes, storageIn);
    const bThresholds = pool.get(`ties.thresholds${slot}`, numTasks * 4, storageIn);
    const bOut = pool.get(`ties.out${slot}`, n * 4, storageOut);
    const bAlt = pool.get(`ties.alt${slot}`, n * 4, storageOut);
    const bPending = pool.get(`ties.pending${slot}`, words * 4, storageOut);
    const bTotals = pool.get(`ties.totals${slot}`, 8, storageOut);
    await this.allocated();
    device.queue.writeBuffer(bParams, 0, params);
    writeInputs(device.queue, chunk, bBase, bTasks, stride);
    device.queue.writeBuffer(bThresholds, 0, thresholds.slice(0, numTasks));
    device.queue.writeBuffer(bTotals, 0, new Int32Array(2));
    const pipeline = this.pipeline('ties', {
      WORKGROUP_SIZE: ELECT_WORKGROUP,
      BASE_DTYPE: DTYPE_CODE[chunk.base.dtype],
      TASK_DTYPE: DTYPE_CODE[(chunk.tasks[0] as RawChunk).dtype],
    });
    const out = await this.runPass(
      'ties',
      pipeline,
      [bParams, bBase, bTasks, bThresholds, bOut, bAlt, bPending, bTotals],
      [gx, gy],
      [
        [bOut, n * 4],
        [bAlt, n * 4],
        [bPending, words * 4],
        [bTotals, 8],
      ],
      `ties.readback${slot}`,
    );
    const totals = new Int32Array(out, n * 8 + words * 4, 2);
    if (totals[1]) return this.cpu.ties(chunk, thresholds, lambda); // out of range
    const merged = new Float32Array(out, 0, n);
    const alt = new Float32Array(out, n * 4, n);
    const pending: TiesChunkOut['pending'][number][] = [];
    new Uint32Array(out, n * 8, words).forEach((word, w) => {
      for (let bits = word; bits !== 0; bits &= bits - 1) {
        const index = w * 32 + 31 - Math.clz32(bits & -bits);
        pending.push({ index, ifPositive: alt[index] as number, ifNotPositive: merged[index] as number });
      }
    });
    return {
      merged: merged.slice(),
      signSum: totals[0] as number,
      pending,
      nonFinite: noneNonFinite(numTasks),
    };
  }

  /**
   * Test hook: the engine's next buffer request asks for more than the device's maxBufferSize, as
   * an allocation the device cannot make; the call that made it fails with a GpuAllocationError.
   */
  refuseNextAllocation(): void {
    this.pool.refuseNext = true;
  }

  dispose(): void {
    this.pool.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}
