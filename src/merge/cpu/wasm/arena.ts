// The CPU engine's EmrArena (../../emr-arena.ts): one WebAssembly memory of a fixed size, laid out
// once — per shared tensor τ_uni, its N masks and the base, each padded to whole 32-element words
// (a chunk's padding never reaches the next tensor) — then two input slots of N tasks, the
// kernel's sums and a scratch for rebuilt pieces. The memory never grows, so the views it hands
// out stay valid for the life of the result; pages are touched only as they are written.
import type { TensorName } from '../../../formats/tensor';
import type { ArenaInputs, ArenaTensor, EmrArena, EmrChunkSums } from '../../emr-arena';
import { allFinite, maskWords } from '../kernels';
import { kernelExports, leastSum } from './host';

const PAGE = 65536;
/** The largest arena made; past it a merge keeps the copying path (a wasm32 memory is ≤ 4 GiB). */
export const MAX_ARENA_BYTES = 3 * 2 ** 30;

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Byte offsets of a tensor's τ_uni, masks and base. */
interface Place {
  readonly tau: number;
  readonly masks: number;
  readonly base: number;
  readonly words: number;
}

/** Bytes an arena for these tensors takes (what decides whether one is made). */
export function arenaLayout(tensors: readonly ArenaTensor[], numTasks: number, maxNumel: number) {
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
  const slots: [number, number] = [at, at + numTasks * stride];
  const sums = at + 2 * numTasks * stride;
  const scratch = align16(sums + 16 * numTasks);
  return { places, stride, slots, sums, scratch, bytes: scratch + stride };
}

export function makeArena(
  tensors: readonly ArenaTensor[],
  numTasks: number,
  maxNumel: number,
): EmrArena | undefined {
  if (numTasks < 1) return undefined;
  const layout = arenaLayout(tensors, numTasks, maxNumel);
  if (layout.bytes > MAX_ARENA_BYTES) return undefined;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(layout.bytes / PAGE)) });
  } catch {
    return undefined; // the address space refused: the copying path still works
  }
  const x = kernelExports(memory);
  if (!x) return undefined;
  const buf = memory.buffer;
  const mem = new Uint8Array(buf);
  const { places, stride, slots, sums, scratch } = layout;
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
  const least = leastSum(numTasks);

  return {
    tauUni,
    masks,
    inputs(slot, r): ArenaInputs {
      const at = slots[slot];
      return {
        base: new Uint8Array(buf, place(r.name).base + r.start * 4, r.numel * 4),
        tasks: Array.from({ length: numTasks }, (_, t) => new Uint8Array(buf, at + t * stride, r.numel * 4)),
      };
    },
    elect(r, input): EmrChunkSums {
      const p = place(r.name);
      const n = r.numel;
      const B = p.base + r.start * 4;
      const T = input.tasks[0]?.byteOffset ?? -1;
      const inPlace =
        input.base.buffer === buf &&
        input.base.byteOffset === B &&
        slots.includes(T) &&
        input.tasks.length === numTasks &&
        input.tasks.every((b, t) => b.buffer === buf && b.byteOffset === T + t * stride);
      if (!inPlace) throw new Error(`chunk of ${r.name} was not read into the merge's memory`);
      const words = maskWords(n);
      const padded = words * 32;
      // The last chunk of a tensor ends inside a word: zeros after it change nothing (kernels.ts).
      if (padded > n) {
        mem.fill(0, B + n * 4, B + padded * 4);
        for (let t = 0; t < numTasks; t++) mem.fill(0, T + t * stride + n * 4, T + t * stride + padded * 4);
      }
      const acc = new Float64Array(buf, sums, 2 * numTasks);
      acc.fill(0);
      const U = p.tau + r.start * 4;
      const M = p.masks + (r.start / 32) * 4;
      const conflicts = n === 0 ? 0 : x.emr(words, numTasks, B, T, stride, U, M, p.words * 4, sums, least);
      const sumAbsTau = acc.slice(0, numTasks);
      // As the copying path (host.ts): the inputs are counted only when a sum came out non-finite.
      const nonFinite = new Uint32Array(1 + numTasks);
      if (n > 0 && !allFinite(sumAbsTau))
        for (let m = 0; m <= numTasks; m++)
          nonFinite[m] = x.nonFinite(m === 0 ? B : T + (m - 1) * stride, words * 8);
      return { sumAbsTau, sumAbsMasked: acc.slice(numTasks), conflicts, nonFinite };
    },
    reconstructInto(r, t, lambda, out) {
      const p = place(r.name);
      const piece = stride / 4; // elements, a multiple of 32
      const lam = Math.fround(lambda);
      for (let off = 0; off < r.numel; off += piece) {
        const n = Math.min(piece, r.numel - off);
        const first = r.start + off;
        const M = p.masks + (t * p.words + first / 32) * 4;
        x.reconstruct(maskWords(n), p.base + first * 4, p.tau + first * 4, M, lam, scratch);
        out.set(new Float32Array(buf, scratch, n), off);
      }
    },
  };
}
