// Plan: the mask viewer's cells — 2-D views of any shape, the smallest block that fits the cell
// budget, and cell values for each mode checked by hand on a small tensor (including the sizes
// that straddle a mask word: 31, 32, 33 elements); the one builder read band by band equals it
// read whole, for packed masks a task picks by index (Consensus) and T-Switch's kept signs.
import { describe, expect, it } from 'vitest';
import {
  blockSize,
  keptSigns,
  maskImage,
  MaskImageBuilder,
  maskOnes,
  packedSource,
  tasksNeeded,
  view2d,
} from './mask-image';

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
  const tauUni = Float32Array.from([1, -2, 0, 3, -1, 0.5]);
  const src = packedSource({
    shape: [2, 3],
    numel,
    numTasks: 2,
    masks: pack(bits, numel),
    signs: (_t, first, count) => tauUni.subarray(first, first + count),
  });

  it('draws a task’s mask, another task’s, the agreement and the sign per element', async () => {
    expect([...(await maskImage(src, 'mask', 0, 100)).values]).toEqual([1, 0, 1, 1, 0, 0]);
    expect([...(await maskImage(src, 'other-mask', 0, 100, 1)).values]).toEqual([1, 1, 0, 1, 0, 1]);
    expect([...(await maskImage(src, 'agreement', 0, 100)).values]).toEqual([1, 0.5, 0.5, 1, 0, 0.5]);
    expect([...(await maskImage(src, 'sign', 0, 100)).values]).toEqual([1, -1, 0, 1, -1, 1]);
  });

  it('averages blocks when the tensor does not fit', async () => {
    const img = await maskImage(src, 'mask', 0, 2); // 2 × 3 into ≤ 2 cells: blocks of 2 × 2
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
  it('pools band by band exactly as over the whole tensor, in every mode', async () => {
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
        const src = packedSource({
          shape: [rows, cols],
          numel,
          numTasks,
          masks,
          signs: (_t, first, count) => tauUni.subarray(first, first + count),
        });
        const whole = await maskImage(src, mode, 1, maxCells, 2);
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
          builder.add({ first, count, masks: band, signs: tauUni.subarray(first, first + count) });
        }
        expect(builder.finish()).toEqual(whole);
        // the one driver, in bands of 64 and of 96 elements
        expect(await maskImage(src, mode, 1, maxCells, 2, 64)).toEqual(whole);
        expect(await maskImage(src, mode, 1, maxCells, 2, 96)).toEqual(whole);
      }
  });
});

describe('packed sources', () => {
  const numel = 6;
  it('Consensus: every task reads the one mask it shares, so agreement is that mask', async () => {
    const tauMtl = Float32Array.from([0.5, 0, -1, 2, 0, -3]);
    const src = packedSource({
      shape: [numel],
      numel,
      numTasks: 3,
      masks: pack([[1, 0, 1, 1, 0, 0]], numel),
      maskOf: () => 0,
      signs: (_t, first, count) => tauMtl.subarray(first, first + count),
    });
    for (const t of [0, 2])
      expect([...(await maskImage(src, 'mask', t, 100)).values]).toEqual([1, 0, 1, 1, 0, 0]);
    expect([...(await maskImage(src, 'agreement', 1, 100)).values]).toEqual([1, 0, 1, 1, 0, 0]);
    expect([...(await maskImage(src, 'sign', 1, 100)).values]).toEqual([1, 0, -1, 1, 0, -1]);
  });

  it('T-Switch: a task’s keep bits, and its sign bits only where kept', async () => {
    const keep = pack(
      [
        [1, 0, 1, 1, 0, 0],
        [0, 1, 1, 0, 0, 1],
      ],
      numel,
    );
    // task 0's sign bit at 4 is not kept: drawn as 0, not −1
    const sign = pack(
      [
        [0, 0, 1, 0, 1, 0],
        [0, 1, 0, 0, 0, 0],
      ],
      numel,
    );
    expect([...keptSigns(keep, sign, numel, 0, 0, numel)]).toEqual([1, 0, -1, 1, 0, 0]);
    expect([...keptSigns(keep, sign, numel, 1, 0, numel)]).toEqual([0, -1, 1, 0, 0, 1]);
    const src = packedSource({
      shape: [2, 3],
      numel,
      numTasks: 2,
      masks: keep,
      signs: (t, first, count) => keptSigns(keep, sign, numel, t, first, count),
    });
    expect([...(await maskImage(src, 'mask', 1, 100)).values]).toEqual([0, 1, 1, 0, 0, 1]);
    expect([...(await maskImage(src, 'sign', 1, 100)).values]).toEqual([0, -1, 1, 0, 0, 1]);
    expect([...(await maskImage(src, 'agreement', 0, 100)).values]).toEqual([0.5, 0.5, 1, 0.5, 0, 0.5]);
  });

  it('T-Switch’s signs for a band past the first mask word (33 elements, from 32)', () => {
    const n = 33;
    const keep = pack([Array.from({ length: n }, () => 1)], n);
    const sign = pack([Array.from({ length: n }, (_, i) => +(i === 32))], n);
    expect([...keptSigns(keep, sign, n, 0, 32, 1)]).toEqual([-1]);
    expect([...keptSigns(keep, sign, n, 0, 0, 32)]).toEqual(new Array(32).fill(1));
  });
});
