// A tiny WebAssembly binary emitter: just what the SIMD kernels of ./wasm-kernels.ts need. The module is
// built from this source at load time (a few kilobytes, microseconds), so no binary is committed.
// Opcodes: the core spec and the SIMD proposal's binary encoding (0xfd prefix, LEB128 opcode).

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** A function body under construction: locals by name, instructions appended in order. */
export class Fn {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  private readonly index = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly params: readonly [string, ValType][],
    readonly results: readonly ValType[],
  ) {
    params.forEach(([n], i) => this.index.set(n, i));
  }

  local(n: string, type: ValType): this {
    if (this.index.has(n)) throw new Error(`local ${n} declared twice`);
    this.index.set(n, this.params.length + this.localTypes.length);
    this.localTypes.push(type);
    return this;
  }

  private idx(n: string): number {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`no local ${n} in ${this.name}`);
    return i;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(n: string): this {
    return this.op(0x20, ...uleb(this.idx(n)));
  }
  set(n: string): this {
    return this.op(0x21, ...uleb(this.idx(n)));
  }
  tee(n: string): this {
    return this.op(0x22, ...uleb(this.idx(n)));
  }
  i32(v: number): this {
    return this.op(0x41, ...sleb(v | 0));
  }
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...b);
  }
  /** A SIMD instruction: 0xfd, the LEB128 opcode, then immediates. */
  simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }
  v128const(bytes: Uint8Array): this {
    return this.simd(0x0c, ...bytes);
  }
  /** v128.load / v128.store with a constant byte offset (align 2^4). */
  load128(offset = 0): this {
    return this.simd(0x00, 4, ...uleb(offset));
  }
  store128(offset = 0): this {
    return this.simd(0x0b, 4, ...uleb(offset));
  }
  /** `block` + `loop` with a break-out label (depth 1) and a continue label (depth 0). */
  loop(body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40);
    body();
    return this.op(0x0b, 0x0b);
  }

  encode(): { type: number[]; body: number[] } {
    const type = [0x60, ...vec(this.params.map(([, t]) => [t])), ...vec(this.results.map((t) => [t]))];
    const locals = vec(this.localTypes.map((t) => [1, t]));
    const body = [...locals, ...this.code, 0x0b];
    return { type, body: [...uleb(body.length), ...body] };
  }
}

/** A module importing one memory ("env", "memory", shared or not) and exporting `fns`. */
export function emitModule(fns: readonly Fn[], shared: boolean): Uint8Array<ArrayBuffer> {
  const enc = fns.map((f) => f.encode());
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(enc.map((e) => e.type))),
    // memory import: limits flag 0 (min only) or 3 (shared, min and max: 65 536 pages, 4 GiB)
    ...section(
      2,
      vec([[...name('env'), ...name('memory'), 0x02, ...(shared ? [0x03, 1, ...uleb(65536)] : [0x00, 1])]]),
    ),
    ...section(3, vec(enc.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(enc.map((e) => e.body))),
  ];
  return new Uint8Array(bytes);
}
