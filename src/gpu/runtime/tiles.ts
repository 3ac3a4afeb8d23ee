// Tiling and stitching, for every program: a call's elements go up in tiles small enough that a
// call makes several (the upload of one overlaps the compute of the other, over the runtime's two
// buffer sets) and large enough to fill a GPU, each within one storage binding.

/** Input bytes per tile at most: 32 MiB. */
export const TILE_BYTES = 32 * 2 ** 20;

/** One tile's elements [start, end) and what its pass gave. */
export interface Tile<T> {
  readonly start: number;
  readonly end: number;
  readonly out: T;
}

/**
 * Elements per tile when each element takes `bytesPerElement` of the largest binding: that binding
 * within `maxBinding` and TILE_BYTES, a multiple of `unit` (a program's alignment: the elect
 * kernel's span keeps its per-workgroup partials the same whatever the tiling) where that fits,
 * else of 32 (tiny forced limits in tests; masks are 32 elements a word).
 */
export function tileElements(maxBinding: number, bytesPerElement: number, unit: number): number {
  const binding = Math.floor(maxBinding / bytesPerElement);
  const pipelined = Math.floor(TILE_BYTES / bytesPerElement / unit) * unit;
  const elements = Math.min(binding, Math.max(unit, pipelined));
  const step = elements >= unit ? unit : 32;
  return Math.max(32, Math.floor(elements / step) * step);
}

/** [start, end) of each tile of `numel` elements, `limit` at most (one, possibly empty, tile for 0). */
export function tileRanges(numel: number, limit: number): [number, number][] {
  if (numel <= limit) return [[0, numel]];
  const out: [number, number][] = [];
  for (let start = 0; start < numel; start += limit) out.push([start, Math.min(numel, start + limit)]);
  return out;
}

/**
 * Stitches the tiles' element arrays into `into`: tile k's `pick(out)` at its first element times
 * `per` (array entries per element, e.g. bytes for a byte array).
 */
export function stitch<T, A extends { set(values: ArrayLike<number>, offset: number): void }>(
  into: A,
  tiles: readonly Tile<T>[],
  pick: (out: T, tile: Tile<T>) => ArrayLike<number>,
  per = 1,
): A {
  for (const t of tiles) into.set(pick(t.out, t), t.start * per);
  return into;
}

/** Adds `part`'s counts to `total`, entry by entry. */
export function addCounts(total: Uint32Array, part: ArrayLike<number>): void {
  for (let i = 0; i < total.length; i++) total[i] = (total[i] as number) + (part[i] as number);
}
