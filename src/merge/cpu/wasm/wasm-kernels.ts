// The EMR kernels of ../kernels.ts in WebAssembly SIMD (4 f32 lanes an instruction), fused into
// one pass over each 32-element mask word. They compute exactly what the JavaScript twins compute,
// bit for bit (tested in ./wasm.test.ts): the same f32 operations in the same order per element,
// and the f64 sums for the rescalers in the twins' SUM_LANES partial sums (element i in partial
// i mod SUM_LANES, element order within each), added up in partial order by ./elect-call.ts.
//
// Memory layout is the caller's (./engine.ts): every array is padded to a whole number of 32-element
// words with zeros, which change nothing (a zero τ elects −1, sets no mask bit, adds 0 to every sum).
import { SUM_LANES } from '../kernels';
import { emitModule, F32, Fn, I32, V128 } from './emit';

// Core opcodes
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_OR = 0x72;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const I32_POPCNT = 0x69;
const I32_LT_U = 0x49;
const BR_IF = 0x0d;
// SIMD opcodes
const I32X4_SPLAT = 0x11;
const I32X4_EXTRACT_LANE = 0x1b;
const I32X4_EQ = 0x37;
const F32X4_SPLAT = 0x13;
const I32X4_NE = 0x38;
const F32X4_EQ = 0x41;
const F32X4_LT = 0x43;
const F32X4_GT = 0x44;
const F32X4_GE = 0x46;
const V128_AND = 0x4e;
const V128_OR = 0x50;
const V128_BITSELECT = 0x52;
const I32X4_BITMASK = 0xa4;
const I32X4_SUB = 0xb1;
const I32X4_MAX_S = 0xb8;
const F32X4_ABS = 0xe0;
const F32X4_ADD = 0xe4;
const F32X4_SUB = 0xe5;
const F32X4_MUL = 0xe6;
const I8X16_SHUFFLE = 0x0d;
const F64X2_PROMOTE_LOW_F32X4 = 0x5f;
const F64X2_ADD = 0xf0;

const GROUPS = 8; // 4-lane groups in a 32-element word
/** i8x16.shuffle lanes moving the high two f32 to the low half. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const ZERO = new Uint8Array(16);
const LANE_BITS = new Uint8Array(new Uint32Array([1, 2, 4, 8]).buffer);
const ONES_F32 = new Uint8Array(new Float32Array([1, 1, 1, 1]).buffer);
const MINUS_ONES_F32 = new Uint8Array(new Float32Array([-1, -1, -1, -1]).buffer);
const EXPONENT_BITS = new Uint8Array(
  new Uint32Array([0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000]).buffer,
);

const i32load = (f: Fn, offset = 0) => f.op(0x28, 2, offset);
const i32store = (f: Fn, offset = 0) => f.op(0x36, 2, offset);

/**
 * Group g's 4 lanes of `vector` (f32 → f64, exact) added to their sums: element i of a word goes to
 * sum i mod SUM_LANES (SUM_LANES f64 chains, in f64x2 pairs), each its own dependency chain.
 */
function addToSums(f: Fn, g: number, vector: string): void {
  const pair = (g % (SUM_LANES / 4)) * 2;
  f.get(`c${pair}`).get(vector).simd(F64X2_PROMOTE_LOW_F32X4).simd(F64X2_ADD).set(`c${pair}`);
  f.get(`c${pair + 1}`)
    .get(vector)
    .get(vector)
    .simd(I8X16_SHUFFLE, ...HIGH_HALF);
  f.simd(F64X2_PROMOTE_LOW_F32X4)
    .simd(F64X2_ADD)
    .set(`c${pair + 1}`);
}

/** The SUM_LANES sums at byte `at` into the chain locals, or back. */
function loadSums(f: Fn, at: string): void {
  for (let c = 0; c < SUM_LANES / 2; c++)
    f.get(at)
      .load128(16 * c)
      .set(`c${c}`);
}
function storeSums(f: Fn, at: string): void {
  for (let c = 0; c < SUM_LANES / 2; c++)
    f.get(at)
      .get(`c${c}`)
      .store128(16 * c);
}

/** Lane mask of the 4 bits of `word` for group g: all ones where the element's bit is set. */
function laneMask(f: Fn, word: string, g: number): void {
  f.get(word)
    .i32(4 * g)
    .op(I32_SHR_U)
    .simd(I32X4_SPLAT)
    .v128const(LANE_BITS)
    .simd(V128_AND)
    .v128const(ZERO)
    .simd(I32X4_NE);
}

/** `ptr += step; i += 1; continue while i < limit` (the loop runs at least once). */
function next(f: Fn, i: string, limit: string, ...ptrs: [string, string][]): void {
  for (const [ptr, step] of ptrs) f.get(ptr).get(step).op(I32_ADD).set(ptr);
  f.get(i).i32(1).op(I32_ADD).tee(i).get(limit).op(I32_LT_U, BR_IF, 0);
}

/**
 * emr(words, N, B, T, S, U, M, W, A, least) → conflicts. Base at B, task t at T + t·S, τ_uni out at
 * U, task t's mask words at M + t·W, sums at A, added to: Σ|τ_t| then Σ|M_t⊙τ_uni|, each task's as
 * SUM_LANES f64 partial sums (element i of a word in partial i mod SUM_LANES).
 */
function emrFn(): Fn {
  const f = new Fn(
    'emr',
    [
      ['words', I32],
      ['n', I32],
      ['B', I32],
      ['T', I32],
      ['S', I32],
      ['U', I32],
      ['M', I32],
      ['W', I32],
      ['A', I32],
      ['least', F32],
    ],
    [I32],
  );
  for (const l of ['wi', 'off', 'bp', 't', 'p', 'mp', 'ap', 'word', 'conflicts', 'step']) f.local(l, I32);
  for (const l of ['x', 'v', 'tau', 'a', 'leastv']) f.local(l, V128);
  for (let c = 0; c < SUM_LANES / 2; c++) f.local(`c${c}`, V128);
  for (let g = 0; g < GROUPS; g++) f.local(`s${g}`, V128).local(`e${g}`, V128).local(`d${g}`, V128);

  f.i32(SUM_LANES * 8).set('step');
  f.get('least').simd(F32X4_SPLAT).set('leastv');
  f.loop(() => {
    f.get('B').get('off').op(I32_ADD).set('bp');
    // Σ_t τ_t in f32, task order (e_g holds the sums for now).
    for (let g = 0; g < GROUPS; g++) f.v128const(ZERO).set(`e${g}`);
    f.i32(0).set('t');
    f.get('T').get('off').op(I32_ADD).set('p');
    f.loop(() => {
      for (let g = 0; g < GROUPS; g++) {
        f.get(`e${g}`);
        f.get('p')
          .load128(16 * g)
          .get('bp')
          .load128(16 * g)
          .simd(F32X4_SUB);
        f.simd(F32X4_ADD).set(`e${g}`);
      }
      next(f, 't', 'n', ['p', 'S']);
    });
    // s = +1 where Σ ≥ the least Σ whose f32 mean is > 0, else −1.
    for (let g = 0; g < GROUPS; g++) {
      f.v128const(ONES_F32).v128const(MINUS_ONES_F32);
      f.get(`e${g}`).get('leastv').simd(F32X4_GE).simd(V128_BITSELECT).set(`s${g}`);
      f.v128const(ZERO).set(`e${g}`).v128const(ZERO).set(`d${g}`);
    }
    // Per task: v = s·τ (NaN → 0), Σ|τ|, ε = max(ε, v) on the bits, disagree |= v < 0, mask = v > 0.
    f.i32(0).set('t');
    f.get('T').get('off').op(I32_ADD).set('p');
    f.get('M').get('wi').i32(2).op(I32_SHL).op(I32_ADD).set('mp');
    f.get('A').set('ap');
    f.loop(() => {
      loadSums(f, 'ap');
      f.i32(0).set('word');
      for (let g = 0; g < GROUPS; g++) {
        f.get('p')
          .load128(16 * g)
          .get('bp')
          .load128(16 * g)
          .simd(F32X4_SUB)
          .set('tau');
        f.get('tau').get(`s${g}`).simd(F32X4_MUL).set('x');
        f.get('x').v128const(ZERO).get('x').get('x').simd(F32X4_EQ).simd(V128_BITSELECT).set('v');
        f.get('tau').simd(F32X4_ABS).set('a');
        addToSums(f, g, 'a');
        f.get(`e${g}`).get('v').simd(I32X4_MAX_S).set(`e${g}`);
        f.get(`d${g}`).get('v').v128const(ZERO).simd(F32X4_LT).simd(V128_OR).set(`d${g}`);
        f.get('word').get('v').v128const(ZERO).simd(F32X4_GT).simd(I32X4_BITMASK);
        f.i32(4 * g)
          .op(I32_SHL)
          .op(I32_OR)
          .set('word');
      }
      storeSums(f, 'ap');
      f.get('mp').get('word');
      i32store(f);
      next(f, 't', 'n', ['p', 'S'], ['mp', 'W'], ['ap', 'step']);
    });
    // τ_uni = s·ε; conflicts: ε > 0 and some task disagrees.
    for (let g = 0; g < GROUPS; g++) {
      f.get('U').get('off').op(I32_ADD);
      f.get(`s${g}`)
        .get(`e${g}`)
        .simd(F32X4_MUL)
        .store128(16 * g);
      f.get('conflicts');
      f.get(`e${g}`).v128const(ZERO).simd(F32X4_GT).get(`d${g}`).simd(V128_AND).simd(I32X4_BITMASK);
      f.op(I32_POPCNT, I32_ADD).set('conflicts');
    }
    // Σ_i M_t[i]·ε[i] per task, f32 products (exact: ε·1 or ε·0) added in f64.
    f.i32(0).set('t');
    f.get('M').get('wi').i32(2).op(I32_SHL).op(I32_ADD).set('mp');
    f.get('A').get('n').get('step').op(I32_MUL).op(I32_ADD).set('ap');
    f.loop(() => {
      loadSums(f, 'ap');
      f.get('mp');
      i32load(f);
      f.set('word');
      for (let g = 0; g < GROUPS; g++) {
        f.get(`e${g}`);
        laneMask(f, 'word', g);
        f.v128const(ONES_F32).simd(V128_AND).simd(F32X4_MUL).set('a');
        addToSums(f, g, 'a');
      }
      storeSums(f, 'ap');
      next(f, 't', 'n', ['mp', 'W'], ['ap', 'step']);
    });
    f.get('off').i32(128).op(I32_ADD).set('off');
    f.get('wi').i32(1).op(I32_ADD).tee('wi').get('words').op(I32_LT_U, BR_IF, 0);
  });
  f.get('conflicts');
  return f;
}

/** recon(words, B, U, M, lambda, O): O = where mask bit, B + f32(λ·U), else B (bits kept). */
function reconstructFn(): Fn {
  const f = new Fn(
    'reconstruct',
    [
      ['words', I32],
      ['B', I32],
      ['U', I32],
      ['M', I32],
      ['lambda', F32],
      ['O', I32],
    ],
    [],
  );
  for (const l of ['wi', 'off', 'word']) f.local(l, I32);
  for (const l of ['lam', 'b']) f.local(l, V128);
  f.get('lambda').simd(F32X4_SPLAT).set('lam');
  f.loop(() => {
    f.get('M').get('wi').i32(2).op(I32_SHL).op(I32_ADD);
    i32load(f);
    f.set('word');
    for (let g = 0; g < GROUPS; g++) {
      f.get('O').get('off').op(I32_ADD);
      f.get('B')
        .get('off')
        .op(I32_ADD)
        .load128(16 * g)
        .set('b');
      f.get('b')
        .get('lam')
        .get('U')
        .get('off')
        .op(I32_ADD)
        .load128(16 * g)
        .simd(F32X4_MUL)
        .simd(F32X4_ADD);
      f.get('b');
      laneMask(f, 'word', g);
      f.simd(V128_BITSELECT).store128(16 * g);
    }
    f.get('off').i32(128).op(I32_ADD).set('off');
    f.get('wi').i32(1).op(I32_ADD).tee('wi').get('words').op(I32_LT_U, BR_IF, 0);
  });
  return f;
}

/**
 * nonFinite(P, vectors) → the number of f32 at P (4·vectors of them) whose exponent bits are all
 * ones: NaN and ±∞, as ../kernels.ts countNonFinite. Run only on chunks whose Σ|τ_t| came out
 * non-finite (../wasm/host.ts): a finite sum proves every input finite, at no cost to the pass.
 */
function nonFiniteFn(): Fn {
  const f = new Fn(
    'nonFinite',
    [
      ['P', I32],
      ['vectors', I32],
    ],
    [I32],
  );
  f.local('i', I32).local('acc', V128);
  f.loop(() => {
    // acc −= (x & exponent) == exponent: all ones (−1) in a lane that is NaN or ±∞
    f.get('acc');
    f.get('P').load128().v128const(EXPONENT_BITS).simd(V128_AND).v128const(EXPONENT_BITS).simd(I32X4_EQ);
    f.simd(I32X4_SUB).set('acc');
    f.get('P').i32(16).op(I32_ADD).set('P');
    f.get('i').i32(1).op(I32_ADD).tee('i').get('vectors').op(I32_LT_U, BR_IF, 0);
  });
  for (let lane = 0; lane < 4; lane++) {
    f.get('acc').simd(I32X4_EXTRACT_LANE, lane);
    if (lane > 0) f.op(I32_ADD);
  }
  return f;
}

/**
 * popcount(P, words) → the set bits of `words` (≥ 1) u32 at P: a chunk's mask ones for one task,
 * counted where the chunk was elected (the helper thread's chunks on the helper), not afterwards in
 * JavaScript on the calling thread (../../emr-merge.ts).
 */
function popcountFn(): Fn {
  const f = new Fn(
    'popcount',
    [
      ['P', I32],
      ['words', I32],
    ],
    [I32],
  );
  f.local('i', I32).local('n', I32);
  f.loop(() => {
    f.get('n').get('P');
    i32load(f);
    f.op(I32_POPCNT, I32_ADD).set('n');
    f.get('P').i32(4).op(I32_ADD).set('P');
    f.get('i').i32(1).op(I32_ADD).tee('i').get('words').op(I32_LT_U, BR_IF, 0);
  });
  f.get('n');
  return f;
}

/** The kernels' module bytes (importing env.memory, shared when `shared`). */
export function kernelModuleBytes(shared = false): Uint8Array<ArrayBuffer> {
  return emitModule([emrFn(), reconstructFn(), nonFiniteFn(), popcountFn()], shared);
}
