// The CPU engine's EmrArena (../../emr-arena.ts): one WebAssembly memory of a fixed size, laid out
// once — per shared tensor τ_uni, its N masks and the base, each padded to whole 32-element words
// (a chunk's padding never reaches the next tensor) — then the input slots, each thread's sums and
// a scratch for rebuilt pieces. The memory never grows, so the views it hands out stay valid for
// the life of the result; pages are touched only as they are written. Given a helper thread (the
// CLI's worker pool), the memory is shared and every other chunk's elect kernel runs there: two
// chunks compute at once while a third is read, hence three input slots.
import type { TensorName } from '../../../formats/tensor';
import type { ArenaInputs, ArenaOutputs, ArenaTensor, EmrArena, EmrChunkSums } from '../../emr-arena';
import { maskWords } from '../kernels';
import { electCall, sumsBytes, type ElectCall, type ElectOut } from './elect-call';
import { kernelExports } from './host';

const PAGE = 65536;
/** The largest arena made; past it a merge keeps the copying path (a wasm32 memory is ≤ 4 GiB). */
export const MAX_ARENA_BYTES = 3 * 2 ** 30;

/** Output slot pairs: one per task model written at once (the CLI writes two). */
const OUTPUT_PAIRS = 2;

/** A thread that runs elect calls on a shared arena memory (../kernel-server.ts). */
export interface ArenaHelper {
  attach(memory: WebAssembly.Memory): Promise<number>;
  elect(id: number, call: ElectCall): Promise<ElectOut>;
  detach(id: number): Promise<void>;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Byte offsets of a tensor's τ_uni, masks and base. */
interface Place {
  readonly tau: number;
  readonly masks: number;
  readonly base: number;
  readonly words: number;
}

/** Where everything goes, and the bytes it takes (what decides whether an arena is made). */
export function arenaLayout(tensors: readonly ArenaTensor[], numTasks: number, maxNumel: number, lanes = 1) {
  let at = 0;
  const places = new Map<TensorName, Place>();
  for (const s of tensors) {
    const words = maskWords(s.numel);
    const tau = at;
    const masks = tau + words * 128;
    const base = align16(masks + numTasks * words * 4);
    at = base + words * 128;
    places.set(s.name, { tau, masks, base, words });
  }
  // One 32-element word at least, so the scratch always moves the rebuild forward.
  const stride = Math.max(1, maskWords(maxNumel)) * 128;
  const slots = Array.from({ length: lanes + 1 }, (_, i) => at + i * numTasks * stride);
  at += (lanes + 1) * numTasks * stride;
  const sums = Array.from({ length: lanes }, (_, i) => at + i * sumsBytes(numTasks));
  const scratch = align16(at + lanes * sumsBytes(numTasks));
  // The scratch, then the output pairs' slots, each a slot's size.
  const outputs = Array.from({ length: 2 * OUTPUT_PAIRS }, (_, i) => scratch + (i + 1) * stride);
  return { places, stride, slots, sums, scratch, outputs, bytes: scratch + (1 + 2 * OUTPUT_PAIRS) * stride };
}

/** A fixed-size memory, shared when asked and the platform allows (else undefined). */
function memoryOf(bytes: number, shared: boolean): WebAssembly.Memory | undefined {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  try {
    return new WebAssembly.Memory(shared ? { initial: pages, maximum: pages, shared } : { initial: pages });
  } catch {
    return undefined; // the address space refused, or no shared memory here
  }
}

export function makeArena(
  tensors: readonly ArenaTensor[],
  numTasks: number,
  maxNumel: number,
  helper?: ArenaHelper,
): EmrArena | undefined {
  if (numTasks < 1) return undefined;
  let lanes: 1 | 2 = helper ? 2 : 1;
  let layout = arenaLayout(tensors, numTasks, maxNumel, lanes);
  let memory = layout.bytes <= MAX_ARENA_BYTES ? memoryOf(layout.bytes, lanes === 2) : undefined;
  if (!memory && lanes === 2) {
    lanes = 1;
    layout = arenaLayout(tensors, numTasks, maxNumel, 1);
    memory = layout.bytes <= MAX_ARENA_BYTES ? memoryOf(layout.bytes, false) : undefined;
  }
  if (!memory) return undefined;
  const x = kernelExports(memory, lanes === 2);
  if (!x) return undefined;
  const buf = memory.buffer;
  const { places, stride, slots, sums, scratch, outputs } = layout;
  const freePairs = Array.from({ length: OUTPUT_PAIRS }, (_, i) => i);
  const place = (name: TensorName): Place => {
    const p = places.get(name);
    if (!p) throw new RangeError(`no tensor ${name} in the merge's memory`);
    return p;
  };
  const tauUni = new Map<TensorName, Float32Array>();
  const masks = new Map<TensorName, Uint32Array>();
  for (const s of tensors) {
    const p = place(s.name);
    tauUni.set(s.name, new Float32Array(buf, p.tau, s.numel));
    masks.set(s.name, new Uint32Array(buf, p.masks, numTasks * p.words));
  }
  // The helper takes chunks once it is up (a worker may take ~0.1 s to start): until then, and
  // for the chunk after each of its own, the calling thread elects.
  const attached = lanes === 2 && helper ? helper.attach(memory) : undefined;
  let ready = false;
  let lastOnHelper = false;
  let helped = 0;
  attached?.then(
    () => (ready = true),
    () => {}, // never ready: every chunk stays on this thread
  );
  const piece = stride / 4; // elements a slot holds, a multiple of 32
  /** θ₀ + λ·(M_t ⊙ τ_uni) over r (r.start a multiple of 32, r.numel ≤ piece) at byte `at`. */
  const rebuild = (
    r: { name: TensorName; start: number; numel: number },
    t: number,
    lambda: number,
    at: number,
  ) => {
    const p = place(r.name);
    const M = p.masks + (t * p.words + r.start / 32) * 4;
    x.reconstruct(maskWords(r.numel), p.base + r.start * 4, p.tau + r.start * 4, M, Math.fround(lambda), at);
  };
  const sumsOf = (out: ElectOut): EmrChunkSums => ({
    sumAbsTau: out.sums.slice(0, numTasks),
    sumAbsMasked: out.sums.slice(numTasks),
    conflicts: out.conflicts,
    nonFinite: out.nonFinite,
    maskOnes: out.maskOnes,
  });

  return {
    tauUni,
    masks,
    lanes,
    inputs(slot, r): ArenaInputs {
      const at = slots[slot] as number;
      return {
        base: new Uint8Array(buf, place(r.name).base + r.start * 4, r.numel * 4),
        tasks: Array.from({ length: numTasks }, (_, t) => new Uint8Array(buf, at + t * stride, r.numel * 4)),
      };
    },
    get helped() {
      return helped;
    },
    elect(r, input) {
      const lane = ready && !lastOnHelper ? 1 : 0;
      lastOnHelper = lane === 1;
      const p = place(r.name);
      const B = p.base + r.start * 4;
      const T = input.tasks[0]?.byteOffset ?? -1;
      const inPlace =
        input.base.buffer === buf &&
        input.base.byteOffset === B &&
        slots.includes(T) &&
        input.tasks.length === numTasks &&
        input.tasks.every((b, t) => b.buffer === buf && b.byteOffset === T + t * stride);
      if (!inPlace) throw new Error(`chunk of ${r.name} was not read into the merge's memory`);
      const call: ElectCall = {
        n: r.numel,
        words: maskWords(r.numel),
        numTasks,
        B,
        T,
        stride,
        U: p.tau + r.start * 4,
        M: p.masks + (r.start / 32) * 4,
        W: p.words * 4,
        A: sums[lane] as number,
        countOnes: true,
      };
      if (lane === 0 || !attached || !helper) return sumsOf(electCall(x, buf, call));
      helped++;
      return attached.then((id) => helper.elect(id, call)).then(sumsOf);
    },
    async release() {
      if (attached && helper) await helper.detach(await attached);
    },
    reconstructInto(r, t, lambda, out) {
      for (let off = 0; off < r.numel; off += piece) {
        const n = Math.min(piece, r.numel - off);
        rebuild({ name: r.name, start: r.start + off, numel: n }, t, lambda, scratch);
        out.set(new Float32Array(buf, scratch, n), off);
      }
    },
    outputPair(): ArenaOutputs | undefined {
      const pair = freePairs.pop();
      if (pair === undefined) return undefined;
      let turn = 0;
      let released = false;
      return {
        elements: piece,
        reconstruct(r, t, lambda) {
          if (released) throw new Error('output slots used after their release');
          if (r.numel > piece) throw new RangeError(`${r.numel} elements do not fit a ${piece}-element slot`);
          turn ^= 1;
          const at = outputs[2 * pair + turn] as number;
          rebuild(r, t, lambda, at);
          return new Float32Array(buf, at, r.numel);
        },
        release() {
          if (!released) freePairs.push(pair);
          released = true;
        },
      };
    },
  };
}
