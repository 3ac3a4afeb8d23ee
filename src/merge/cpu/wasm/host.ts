// The WebAssembly SIMD kernels with their memory: inputs are copied in (F32 bytes as they are, any
// alignment; other dtypes widened first), padded with zeros to whole 32-element words, and the
// results copied out. One memory, grown as needed and reused call after call, so a merge touches
// fresh pages only once.
import { widenToF32 } from '../../../formats/dtype';
import type { EmrInputViews, RawChunk } from '../../engine';
import { maskWords, type EmrChunkOut } from '../kernels';
import { electCall, sumsBytes, type KernelExports } from './elect-call';
import { kernelModuleBytes } from './wasm-kernels';

const modules: (WebAssembly.Module | undefined | null)[] = [undefined, undefined];

/** The compiled kernels (for a shared memory or not), or null where WebAssembly SIMD is not available. */
function kernelModule(shared = false): WebAssembly.Module | null {
  const i = shared ? 1 : 0;
  if (modules[i] === undefined) {
    try {
      modules[i] = new WebAssembly.Module(kernelModuleBytes(shared));
    } catch {
      modules[i] = null;
    }
  }
  return modules[i] ?? null;
}

export const wasmAvailable = (): boolean => kernelModule() !== null;

/** The kernels bound to `memory`, or null where WebAssembly SIMD is not available. */
export function kernelExports(memory: WebAssembly.Memory, shared = false): KernelExports | null {
  const m = kernelModule(shared);
  return m ? (new WebAssembly.Instance(m, { env: { memory } }).exports as unknown as KernelExports) : null;
}

const PAGE = 65536;

export class WasmKernels {
  private readonly memory: WebAssembly.Memory;
  private readonly exports: KernelExports;

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 1 });
    const exports = kernelExports(this.memory);
    if (!exports) throw new Error('WebAssembly SIMD is not available');
    this.exports = exports;
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Copies `n` f32 values of `c` to byte `at`, zeros up to `padded` values. */
  private put(at: number, c: RawChunk | Float32Array, n: number, padded: number): void {
    const mem = new Uint8Array(this.memory.buffer);
    if (c instanceof Float32Array) mem.set(new Uint8Array(c.buffer, c.byteOffset, n * 4), at);
    else if (c.dtype === 'F32') mem.set(c.bytes.subarray(0, n * 4), at);
    else {
      const f = widenToF32(c.bytes, c.dtype);
      mem.set(new Uint8Array(f.buffer, f.byteOffset, n * 4), at);
    }
    mem.fill(0, at + n * 4, at + padded * 4);
  }

  /**
   * Two slots of inputs (base + N tasks, f32, `maxWords` words each) and the outputs after them,
   * laid out once per pass: the memory does not grow while a read fills the other slot.
   */
  private arena:
    | {
        numTasks: number;
        maxWords: number;
        stride: number;
        slots: [number, number];
        U: number;
        M: number;
        A: number;
      }
    | undefined;

  /** See MergeEngine.emrInputs: views of slot `slot` for a chunk of `numel` f32 values. */
  inputViews(slot: 0 | 1, numel: number, maxNumel: number, numTasks: number): EmrInputViews {
    const maxWords = maskWords(maxNumel);
    let a = this.arena;
    if (!a || a.numTasks !== numTasks || a.maxWords < maxWords) {
      const stride = maxWords * 128;
      const slots: [number, number] = [0, (numTasks + 1) * stride];
      const U = 2 * (numTasks + 1) * stride;
      const M = U + stride;
      const A = M + numTasks * maxWords * 4 + ((8 - ((numTasks * maxWords * 4) % 8)) % 8);
      this.reserve(A + sumsBytes(numTasks));
      a = this.arena = { numTasks, maxWords, stride, slots, U, M, A };
    }
    const at = a.slots[slot];
    const buf = this.memory.buffer;
    const stride = a.stride;
    return {
      base: new Uint8Array(buf, at, numel * 4),
      tasks: Array.from(
        { length: numTasks },
        (_, t) => new Uint8Array(buf, at + (t + 1) * stride, numel * 4),
      ),
    };
  }

  /** The arena slot these inputs were read into, if they were (then no copy is needed). */
  private slotOf(
    base: RawChunk | Float32Array,
    tasks: readonly (RawChunk | Float32Array)[],
  ): number | undefined {
    const a = this.arena;
    const buf = this.memory.buffer;
    const bytes = (c: RawChunk | Float32Array) => (c instanceof Float32Array ? undefined : c.bytes);
    const b = bytes(base);
    if (!a || !b || b.buffer !== buf || a.numTasks !== tasks.length) return undefined;
    const at = a.slots.find((s) => s === b.byteOffset);
    if (at === undefined) return undefined;
    const inPlace = tasks.every((t, i) => {
      const x = bytes(t);
      return x !== undefined && x.buffer === buf && x.byteOffset === at + (i + 1) * a.stride;
    });
    return inPlace ? at : undefined;
  }

  emr(base: RawChunk | Float32Array, tasks: readonly (RawChunk | Float32Array)[], n: number): EmrChunkOut {
    const numTasks = tasks.length;
    const words = maskWords(n);
    const padded = words * 32;
    const W = words * 4;
    const slot = this.slotOf(base, tasks);
    let B: number, T: number, stride: number, U: number, M: number, A: number;
    if (slot !== undefined) {
      // Read in place: electCall zeroes the padding up to a whole word.
      const a = this.arena as NonNullable<typeof this.arena>;
      ({ stride, U, M, A } = a);
      B = slot;
      T = slot + stride;
    } else {
      stride = padded * 4;
      B = 0;
      T = B + stride;
      U = T + numTasks * stride;
      M = U + stride;
      A = M + numTasks * W + ((8 - ((numTasks * W) % 8)) % 8);
      this.reserve(A + sumsBytes(numTasks));
      this.put(B, base, n, padded);
      tasks.forEach((task, t) => this.put(T + t * stride, task, n, padded));
    }
    const r = electCall(this.exports, this.memory.buffer, { n, words, numTasks, B, T, stride, U, M, W, A });
    const buf = this.memory.buffer;
    return {
      tauUni: new Float32Array(buf, U, n).slice(),
      masks: new Uint32Array(buf, M, numTasks * words).slice(),
      sumAbsTau: r.sums.slice(0, numTasks),
      sumAbsMasked: r.sums.slice(numTasks),
      conflicts: r.conflicts,
      nonFinite: r.nonFinite,
    };
  }

  /** θ₀ + λ·(M ⊙ τ_uni) in f32 for one chunk, as ../kernels.ts emrReconstruct. */
  reconstruct(
    base: RawChunk | Float32Array,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
  ): Float32Array<ArrayBuffer> {
    return this.reconstructInMemory(base, tauUni, mask, maskOffsetWords, lambda).slice();
  }

  /** The same, written to `out` (tauUni.length values). */
  reconstructInto(
    base: RawChunk | Float32Array,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
    out: Float32Array,
  ): void {
    out.set(this.reconstructInMemory(base, tauUni, mask, maskOffsetWords, lambda));
  }

  /** The result as a view of the kernels' memory (valid until the next call). */
  private reconstructInMemory(
    base: RawChunk | Float32Array,
    tauUni: Float32Array,
    mask: Uint32Array,
    maskOffsetWords: number,
    lambda: number,
  ): Float32Array<ArrayBuffer> {
    const n = tauUni.length;
    const words = maskWords(n);
    const stride = words * 128;
    const B = 0;
    const U = stride;
    const M = 2 * stride;
    const O = M + words * 4 + ((16 - ((words * 4) % 16)) % 16);
    this.reserve(O + stride);
    this.put(B, base, n, words * 32);
    this.put(U, tauUni, n, words * 32);
    new Uint32Array(this.memory.buffer, M, words).set(
      mask.subarray(maskOffsetWords, maskOffsetWords + words),
    );
    if (n > 0) this.exports.reconstruct(words, B, U, M, Math.fround(lambda), O);
    return new Float32Array(this.memory.buffer, O, n);
  }
}
