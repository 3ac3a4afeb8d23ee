// What a program asks of the runtime for one pass (the shape of onnxruntime-web's ProgramInfo and
// tfjs-backend-webgpu's WebGPUProgram): its WGSL, override constants, workgroup count, and its
// bindings in binding order, each saying what goes in before the pass and whether it comes back.
// The runtime does the rest (src/gpu/runtime/runtime.ts); the readback comes back as named views.

/** Host bytes written into a binding at a byte offset before the pass (padded to whole words). */
export interface Upload {
  readonly at: number;
  readonly data: ArrayBufferView | ArrayBuffer;
}

export interface Binding {
  /** Its pool key (with the program's name and the buffer set) and its name in the readback. */
  readonly name: string;
  readonly use: 'uniform' | 'in' | 'out';
  readonly bytes: number;
  /** Before the pass: host data, or 'zero' (cleared on the GPU); none when the kernel writes it all. */
  readonly init?: 'zero' | readonly Upload[];
  /** Copied into the pass's one readback (in binding order). */
  readonly read?: boolean;
  /** A buffer the program keeps itself (LoRA's factors), bound as is instead of a pooled one. */
  readonly kept?: GPUBuffer;
}

export interface PassSpec {
  /** The program's name: pool keys ("elect.tau#0") and, with the constants, the pipeline cache key. */
  readonly program: string;
  /** The command encoder's label, e.g. "task arithmetic" (defaults to the program's name). */
  readonly label?: string;
  /** The whole WGSL module (shared prelude included; WGSL has no imports). */
  readonly code: string;
  readonly constants: Record<string, number>;
  /** Workgroups to run; the runtime lays them out over x and y (see dispatch.ts). */
  readonly workgroups: number;
  /** The bindings, in binding order, for the dispatch's [x, y] (params carry groups_x). */
  readonly bindings: (groups: readonly [number, number]) => readonly Binding[];
}

export const uniform = (name: string, data: ArrayBuffer | ArrayBufferView): Binding => ({
  name,
  use: 'uniform',
  bytes: data.byteLength,
  init: [{ at: 0, data }],
});

export const input = (name: string, data: ArrayBufferView, bytes = data.byteLength): Binding => ({
  name,
  use: 'in',
  bytes,
  init: [{ at: 0, data }],
});

/** An output read back after the pass; `init` for one the kernel only adds to or flags. */
export const output = (name: string, bytes: number, init?: Binding['init']): Binding =>
  init ? { name, use: 'out', bytes, read: true, init } : { name, use: 'out', bytes, read: true };

/** The one mapped readback of a pass, with a view per binding read back (views, not copies). */
export class Readback {
  constructor(
    readonly buffer: ArrayBuffer,
    private readonly ranges: ReadonlyMap<string, readonly [offset: number, bytes: number]>,
  ) {}

  private range(name: string): readonly [number, number] {
    const r = this.ranges.get(name);
    if (!r) throw new Error(`no binding "${name}" was read back`);
    return r;
  }
  f32(name: string): Float32Array<ArrayBuffer> {
    const [at, bytes] = this.range(name);
    return new Float32Array(this.buffer, at, bytes / 4);
  }
  u32(name: string): Uint32Array<ArrayBuffer> {
    const [at, bytes] = this.range(name);
    return new Uint32Array(this.buffer, at, bytes / 4);
  }
  i32(name: string): Int32Array<ArrayBuffer> {
    const [at, bytes] = this.range(name);
    return new Int32Array(this.buffer, at, bytes / 4);
  }
  /** The first `length` bytes of a binding (all of it by default). */
  bytes(name: string, length?: number): Uint8Array<ArrayBuffer> {
    const [at, bytes] = this.range(name);
    return new Uint8Array(this.buffer, at, length ?? bytes);
  }
}
