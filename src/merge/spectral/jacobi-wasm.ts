// The Jacobi sweeps' two hot loops (./svd.ts) in WebAssembly SIMD, two f64 lanes an instruction,
// emitted from TypeScript at load as the merge kernels are (../cpu/wasm/emit.ts). They compute what
// the JavaScript loops compute, bit for bit (./svd.test.ts): the plane rotation is the same two
// products and one add or subtract per element (WebAssembly has no fused multiply-add), and the dot
// product sums element i into partial sum i mod 4 — lanes (0, 1) of one accumulator and (2, 3) of
// another — then adds (s0 + s2) + (s1 + s3), as the JavaScript `dot` does. Columns are padded with
// zeros to a multiple of 4 values, which add nothing and rotate to zero.
import { emitModule, F64, Fn, I32, V128 } from '../cpu/wasm/emit';

const I32_ADD = 0x6a;
const I32_SHL = 0x74;
const I32_GE_U = 0x4f;
const BR = 0x0c;
const BR_IF = 0x0d;
const F64_ADD = 0xa0;
const F64X2_SPLAT = 0x14;
const F64X2_EXTRACT_LANE = 0x21;
const F64X2_ADD = 0xf0;
const F64X2_SUB = 0xf1;
const F64X2_MUL = 0xf2;
const ZERO = new Uint8Array(16);

/** dot(x, y, n) → Σ x[i]·y[i] over n f64 values (n a multiple of 4) at byte offsets x and y. */
function dotFn(): Fn {
  const f = new Fn(
    'dot',
    [
      ['x', I32],
      ['y', I32],
      ['n', I32],
    ],
    [F64],
  )
    .local('a', V128)
    .local('b', V128)
    .local('end', I32);
  f.v128const(ZERO).set('a').v128const(ZERO).set('b');
  f.get('x').get('n').i32(3).op(I32_SHL).op(I32_ADD).set('end');
  f.loop(() => {
    f.get('x').get('end').op(I32_GE_U, BR_IF, 1);
    f.get('a').get('x').load128(0).get('y').load128(0).simd(F64X2_MUL).simd(F64X2_ADD).set('a');
    f.get('b').get('x').load128(16).get('y').load128(16).simd(F64X2_MUL).simd(F64X2_ADD).set('b');
    f.get('x').i32(32).op(I32_ADD).set('x');
    f.get('y').i32(32).op(I32_ADD).set('y');
    f.op(BR, 0);
  });
  f.get('a').get('b').simd(F64X2_ADD).set('a');
  return f.get('a').simd(F64X2_EXTRACT_LANE, 0).get('a').simd(F64X2_EXTRACT_LANE, 1).op(F64_ADD);
}

/** rot(x, y, n, c, s): x ← c·x − s·y, y ← s·x + c·y over n f64 values (n even). */
function rotFn(): Fn {
  const f = new Fn(
    'rot',
    [
      ['x', I32],
      ['y', I32],
      ['n', I32],
      ['c', F64],
      ['s', F64],
    ],
    [],
  )
    .local('vc', V128)
    .local('vs', V128)
    .local('vx', V128)
    .local('vy', V128)
    .local('end', I32);
  f.get('c').simd(F64X2_SPLAT).set('vc').get('s').simd(F64X2_SPLAT).set('vs');
  f.get('x').get('n').i32(3).op(I32_SHL).op(I32_ADD).set('end');
  f.loop(() => {
    f.get('x').get('end').op(I32_GE_U, BR_IF, 1);
    f.get('x').load128(0).set('vx').get('y').load128(0).set('vy');
    f.get('x')
      .get('vc')
      .get('vx')
      .simd(F64X2_MUL)
      .get('vs')
      .get('vy')
      .simd(F64X2_MUL)
      .simd(F64X2_SUB)
      .store128(0);
    f.get('y')
      .get('vs')
      .get('vx')
      .simd(F64X2_MUL)
      .get('vc')
      .get('vy')
      .simd(F64X2_MUL)
      .simd(F64X2_ADD)
      .store128(0);
    f.get('x').i32(16).op(I32_ADD).set('x');
    f.get('y').i32(16).op(I32_ADD).set('y');
    f.op(BR, 0);
  });
  return f;
}

interface Exports {
  dot(x: number, y: number, n: number): number;
  rot(x: number, y: number, n: number, c: number, s: number): void;
}

let module: WebAssembly.Module | null | undefined;

function jacobiModule(): WebAssembly.Module | null {
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(emitModule([dotFn(), rotFn()], false));
    } catch {
      module = null; // no WebAssembly SIMD here: the JavaScript loops run
    }
  }
  return module;
}

/** Whether the SIMD loops can run here. */
export const jacobiWasmAvailable = (): boolean => jacobiModule() !== null;

/** Two matrices of `cols` columns of `stride` f64 values each, in one WebAssembly memory. */
export class JacobiMemory {
  readonly w: Float64Array;
  readonly v: Float64Array;
  private readonly exports: Exports;

  constructor(
    readonly cols: number,
    readonly stride: number,
  ) {
    const m = jacobiModule();
    if (!m) throw new Error('WebAssembly SIMD is not available');
    const bytes = 2 * cols * stride * 8;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
    this.exports = new WebAssembly.Instance(m, { env: { memory } }).exports as unknown as Exports;
    this.w = new Float64Array(memory.buffer, 0, cols * stride);
    this.v = new Float64Array(memory.buffer, cols * stride * 8, cols * stride);
  }

  /** ⟨column p, column q⟩ of w. */
  dotW(p: number, q: number): number {
    return this.exports.dot(p * this.stride * 8, q * this.stride * 8, this.stride);
  }

  /** Rotates columns p and q of w, then of v. */
  rotate(p: number, q: number, c: number, s: number): void {
    const b = this.stride * 8;
    this.exports.rot(p * b, q * b, this.stride, c, s);
    const vo = this.cols * b;
    this.exports.rot(vo + p * b, vo + q * b, this.stride, c, s);
  }
}
