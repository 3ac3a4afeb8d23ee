// Plan: preprocessing by hand-computed cases — exact area averaging for whole and fractional
// ratios, luma, alpha, polarity, mean/std, and both layouts; presets from a manifest and a shape.
import { describe, expect, it } from 'vitest';
import {
  looksLikeImage,
  preprocess,
  preprocessingFromManifest,
  preprocessingFromShape,
  type Preprocessing,
} from './image';

/** An RGBA image from grey levels (opaque). */
const grey = (width: number, height: number, values: number[]) => ({
  width,
  height,
  data: Uint8ClampedArray.from(values.flatMap((v) => [v, v, v, 255])),
});

const raw: Preprocessing = {
  width: 1,
  height: 1,
  channels: 1,
  layout: 'NCHW',
  polarity: 'as-is',
  scale: 1,
  mean: [0],
  std: [1],
};

describe('preprocess', () => {
  it('averages whole blocks exactly', () => {
    const { input, dims } = preprocess(grey(2, 2, [0, 10, 20, 30]), raw);
    expect(dims).toEqual([1, 1, 1, 1]);
    expect(input[0]).toBeCloseTo(15, 5);
  });

  it('averages fractional blocks by overlap (3 → 2: weights 2/3, 1/3 | 1/3, 2/3)', () => {
    // One row of 3 pixels into 2: [0, 30, 60] → [(0·1 + 30·0.5)/1.5, (30·0.5 + 60·1)/1.5] = [10, 50].
    const { input } = preprocess(grey(3, 1, [0, 30, 60]), { ...raw, width: 2, height: 1 });
    expect([...input].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([10, 50]);
  });

  it('uses Rec. 601 luma and composites alpha over black', () => {
    const red = { width: 1, height: 1, data: Uint8ClampedArray.from([200, 0, 0, 255]) };
    expect(preprocess(red, raw).input[0]).toBeCloseTo(0.299 * 200, 4);
    const half = { width: 1, height: 1, data: Uint8ClampedArray.from([100, 100, 100, 51]) };
    expect(preprocess(half, raw).input[0]).toBeCloseTo(20, 4);
  });

  it('inverts when the image’s polarity is not the one expected', () => {
    const darkOnLight = grey(2, 1, [255, 55]); // mean 155 > 127.5
    const bright = { ...raw, width: 2, polarity: 'bright-on-dark' as const };
    expect([...preprocess(darkOnLight, bright).input]).toEqual([0, 200]);
    expect([...preprocess(darkOnLight, { ...bright, polarity: 'dark-on-bright' }).input]).toEqual([255, 55]);
    expect([...preprocess(darkOnLight, { ...bright, polarity: 'as-is' }).input]).toEqual([255, 55]);
  });

  it('scales, normalizes per channel and lays out NCHW or NHWC', () => {
    // 1 × 2 RGB pixels: (255, 0, 51) and (0, 255, 102).
    const image = { width: 2, height: 1, data: Uint8ClampedArray.from([255, 0, 51, 255, 0, 255, 102, 255]) };
    const p: Preprocessing = {
      width: 2,
      height: 1,
      channels: 3,
      layout: 'NCHW',
      polarity: 'as-is',
      scale: 1 / 255,
      mean: [0.5, 0.5, 0.2],
      std: [0.5, 0.5, 0.2],
    };
    const nchw = preprocess(image, p);
    expect(nchw.dims).toEqual([1, 3, 1, 2]);
    expect([...nchw.input].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1, -1, -1, 1, 0, 1]);
    const nhwc = preprocess(image, { ...p, layout: 'NHWC' });
    expect(nhwc.dims).toEqual([1, 1, 2, 3]);
    expect([...nhwc.input].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1, -1, 0, -1, 1, 1]);
  });

  it('refuses what it cannot do, saying why', () => {
    expect(() => preprocess(grey(0, 1, []), raw)).toThrow('0 × 1 pixels');
    expect(() => preprocess(grey(1, 1, [0]), { ...raw, std: [0] })).toThrow('std no zero');
  });
});

describe('presets', () => {
  it('digits-8: 8 × 8 grey NCHW at x / 255, inverted task dark on bright', () => {
    const manifest = { input: { shape: [null, 1, 8, 8] } };
    expect(preprocessingFromManifest(manifest, 'plain')).toEqual({
      width: 8,
      height: 8,
      channels: 1,
      layout: 'NCHW',
      polarity: 'bright-on-dark',
      scale: 1 / 255,
      mean: [0],
      std: [1],
    });
    expect(preprocessingFromManifest(manifest, 'inverted').polarity).toBe('dark-on-bright');
  });

  it('from a shape: NCHW or NHWC, 224 for symbolic sizes, ImageNet statistics for RGB', () => {
    expect(preprocessingFromShape(['batch', 3, 'h', 'w'])).toMatchObject({
      width: 224,
      height: 224,
      channels: 3,
      layout: 'NCHW',
      mean: [0.485, 0.456, 0.406],
    });
    expect(preprocessingFromShape([1, 32, 48, 1])).toMatchObject({
      width: 48,
      height: 32,
      channels: 1,
      layout: 'NHWC',
    });
  });
});

describe('looksLikeImage', () => {
  it('takes NCHW and NHWC inputs with 1 or 3 channels, not token ids or features', () => {
    expect(looksLikeImage(['batch', 1, 8, 8])).toBe(true);
    expect(looksLikeImage([1, 224, 224, 3])).toBe(true);
    expect(looksLikeImage(['batch', 64])).toBe(false);
    expect(looksLikeImage(['batch', 'seq'])).toBe(false);
    expect(looksLikeImage(null)).toBe(true);
  });
});
