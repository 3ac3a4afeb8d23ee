// Plan: the mask viewer's cells — 2-D views of any shape, the smallest block that fits the cell
// budget, and cell values for each mode checked by hand on a small tensor (including the sizes
// that straddle a mask word: 31, 32, 33 elements).
import { describe, expect, it } from 'vitest';
import { blockSize, maskImage, MaskImageBuilder, maskOnes, tasksNeeded, view2d } from './mask-image';

/** Packs per-task bit arrays as the engine does: task t at t·⌈numel/32⌉ words, LSB first. */
function pack(bits: number[][], numel: number): Uint32Array {
  const words = Math.ceil(numel / 32);
  const out = new Uint32Array(words * bits.length);
  bits.forEach((b, t) =>
    b.forEach(
      (v, i) => (out[t * words + (i >> 5)] = ((out[t * words + (i >> 5)] as number) | (v << (i & 31))) >>> 0),
    ),
  );
  return out;
}

describe('view2d and blockSize', () => {
  it.each([
    [[], [1, 1]],
    [[7], [1, 7]],
    [
      [3, 4],
      [3, 4],
    ],
    [
      [2, 3, 4, 5],
      [2, 60],
    ],
    [
      [1, 17, 64],
      [17, 64],
    ],
    [
      [64, 1, 3, 1],
      [64, 3],
    ],
    [
      [1, 1],
      [1, 1],
    ],
    [
      [1, 7],
      [1, 7],
    ],
  ])('%j is viewed as %j', (shape, view) => expect(view2d(shape)).toEqual(view));

  it('keeps one cell per element when the tensor fits, else the smallest square block', () => {
    expect(blockSize(100, 100, 10_000)).toEqual([1, 1]);
    expect(blockSize(100, 100, 9_999)).toEqual([2, 2]);
    expect(blockSize(1, 1000, 100)).toEqual([1, 10]);
    const [br, bc] = blockSize(3072, 768, 1 << 16);
    expect(Math.ceil(3072 / br) * Math.ceil(768 / bc)).toBeLessThanOrEqual(1 << 16);
  });
});

describe('maskImage', () => {
  const numel = 6;
  const bits = [
    [1, 0, 1, 1, 0, 0],
    [1, 1, 0, 1, 0, 1],
  ];
  const src = {
    shape: [2, 3],
    numel,
    numTasks: 2,
    masks: pack(bits, numel),
    tauUni: Float32Array.from([1, -2, 0, 3, -1, 0.5]),
  };

  it('draws a task’s mask, another task’s, the agreement and the sign per element', () => {
    expect([...maskImage(src, 'mask', 0, 100).values]).toEqual([1, 0, 1, 1, 0, 0]);
    expect([...maskImage(src, 'other-mask', 0, 100, 1).values]).toEqual([1, 1, 0, 1, 0, 1]);
    expect([...maskImage(src, 'agreement', 0, 100).values]).toEqual([1, 0.5, 0.5, 1, 0, 0.5]);
    expect([...maskImage(src, 'sign', 0, 100).values]).toEqual([1, -1, 0, 1, -1, 1]);
  });

  it('averages blocks when the tensor does not fit', () => {
    const img = maskImage(src, 'mask', 0, 2); // 2 × 3 into ≤ 2 cells: blocks of 2 × 2
    expect([img.rows, img.cols, img.blockRows, img.blockCols]).toEqual([1, 2, 2, 2]);
    expect([...img.values]).toEqual([0.5, 0.5]);
  });

  it.each([31, 32, 33])('counts ones across word boundaries (%i elements)', (n) => {
    const b = [
      Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      Array.from({ length: n }, () => 1),
    ];
    expect(maskOnes(pack(b, n), n, 2)).toEqual([Math.ceil(n / 3), n]);
  });
});

describe('MaskImageBuilder', () => {
  it('pools band by band exactly as over the whole tensor, in every mode', () => {
    const [rows, cols, numTasks] = [37, 29, 3];
    const numel = rows * cols;
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const bits = Array.from({ length: numTasks }, () => Array.from({ length: numel }, () => +(rnd() > 0)));
    const masks = pack(bits, numel);
    const tauUni = Float32Array.from({ length: numel }, rnd);
    const words = Math.ceil(numel / 32);
    for (const mode of ['mask', 'other-mask', 'agreement', 'sign'] as const)
      for (const maxCells of [numel, 100]) {
        const whole = maskImage(
          { shape: [rows, cols], numel, numTasks, masks, tauUni },
          mode,
          1,
          maxCells,
          2,
        );
        const builder = new MaskImageBuilder([rows, cols], numTasks, mode, 1, maxCells, 2);
        for (let first = 0; first < numel; first += 64) {
          const count = Math.min(64, numel - first);
          const band = new Map(
            tasksNeeded(mode, 1, numTasks, 2).map(
              (t) =>
                [
                  t,
                  masks.subarray(t * words + first / 32, t * words + Math.ceil((first + count) / 32)),
                ] as const,
            ),
          );
          builder.add({ first, count, masks: band, tauUni: tauUni.subarray(first, first + count) });
        }
        expect(builder.finish()).toEqual(whole);
      }
  });
});
