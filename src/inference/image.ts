// An image (RGBA bytes, as a canvas gives them) into a model's input tensor: polarity, channels,
// an exact area-averaging resize, scale, mean/std and layout. Pure: decoding is the caller's.

export interface ImageLike {
  readonly width: number;
  readonly height: number;
  /** RGBA, row-major, 4 bytes a pixel. */
  readonly data: ArrayLike<number>;
}

export interface Preprocessing {
  readonly width: number;
  readonly height: number;
  /** 1: grey (Rec. 601 luma, 0.299 R + 0.587 G + 0.114 B); 3: RGB. */
  readonly channels: 1 | 3;
  readonly layout: 'NCHW' | 'NHWC';
  /**
   * The polarity the model expects: the image is inverted (255 − v) when its own polarity — dark on
   * light if its mean brightness is above the middle — is the other one. 'as-is' never inverts.
   */
  readonly polarity: 'as-is' | 'bright-on-dark' | 'dark-on-bright';
  /** Multiplies the 0..255 values (1/255 maps them to 0..1). */
  readonly scale: number;
  /** Per channel, subtracted after scaling, then divided by std. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export class PreprocessingError extends Error {
  override readonly name = 'PreprocessingError';
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** What a manifest like the digits-8 zoo's says about its input (see public/zoo/digits-8/manifest.json). */
export interface ManifestInput {
  readonly input?: { readonly shape?: readonly (number | string | null)[] };
}

/**
 * The digits-8 zoo's preprocessing: 8 × 8 grey, NCHW, x / 255 (the digits' x / 16 on their 0..16
 * range), bright digit on a dark background — except the `inverted` task, which expects the digit
 * dark on a bright background.
 */
export function preprocessingFromManifest(manifest: ManifestInput, task: string): Preprocessing {
  const base = preprocessingFromShape(manifest.input?.shape ?? null);
  return {
    ...base,
    mean: [0],
    std: [1],
    scale: 1 / 255,
    polarity: task === 'inverted' ? 'dark-on-bright' : 'bright-on-dark',
  };
}

/** An input an image can become: [N, C, H, W] or [N, H, W, C] with C = 1 or 3 (or a shape not given). */
export function looksLikeImage(shape: readonly (number | string | null)[] | null): boolean {
  if (shape === null) return true;
  return shape.length === 4 && (shape[1] === 1 || shape[1] === 3 || shape[3] === 1 || shape[3] === 3);
}

const dim = (d: number | string | null | undefined, fallback: number) =>
  typeof d === 'number' && d > 0 ? d : fallback;

/**
 * Defaults for an image model known only by its input shape: [N, C, H, W] when the second
 * dimension is 1 or 3, else [N, H, W, C] when the last is; symbolic sizes become 224; three
 * channels get ImageNet's mean and std.
 */
export function preprocessingFromShape(shape: readonly (number | string | null)[] | null): Preprocessing {
  const s = shape ?? [];
  const nhwc = s.length === 4 && !(s[1] === 1 || s[1] === 3) && (s[3] === 1 || s[3] === 3);
  const [c, h, w] = nhwc ? [s[3], s[1], s[2]] : [s[1], s[2], s[3]];
  const channels = c === 1 ? 1 : 3;
  return {
    width: dim(w, 224),
    height: dim(h, 224),
    channels,
    layout: nhwc ? 'NHWC' : 'NCHW',
    polarity: 'as-is',
    scale: 1 / 255,
    mean: channels === 3 ? IMAGENET_MEAN : [0],
    std: channels === 3 ? IMAGENET_STD : [1],
  };
}

/**
 * Box-filter weights of one axis: output cell o covers source [o·n/m, (o+1)·n/m), each source
 * pixel weighted by the length it overlaps, divided by the cell's length.
 */
function boxWeights(n: number, m: number): { start: number; weights: number[] }[] {
  const step = n / m;
  const out: { start: number; weights: number[] }[] = [];
  for (let o = 0; o < m; o++) {
    const lo = o * step;
    const hi = (o + 1) * step;
    const start = Math.floor(lo);
    const weights: number[] = [];
    for (let i = start; i < Math.min(n, Math.ceil(hi)); i++)
      weights.push((Math.min(hi, i + 1) - Math.max(lo, i)) / step);
    out.push({ start, weights });
  }
  return out;
}

/** One channel plane, resized by area averaging from (w, h) to (W, H). */
function resizePlane(plane: Float64Array, w: number, h: number, W: number, H: number): Float64Array {
  const xs = boxWeights(w, W);
  const ys = boxWeights(h, H);
  const rows = new Float64Array(h * W);
  for (let y = 0; y < h; y++)
    for (let o = 0; o < W; o++) {
      const { start, weights } = xs[o] as { start: number; weights: number[] };
      let sum = 0;
      for (let k = 0; k < weights.length; k++)
        sum += (weights[k] as number) * (plane[y * w + start + k] as number);
      rows[y * W + o] = sum;
    }
  const out = new Float64Array(H * W);
  for (let o = 0; o < H; o++) {
    const { start, weights } = ys[o] as { start: number; weights: number[] };
    for (let x = 0; x < W; x++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++)
        sum += (weights[k] as number) * (rows[(start + k) * W + x] as number);
      out[o * W + x] = sum;
    }
  }
  return out;
}

/** The image as the model's input: a batch of one, in the layout asked for. */
export function preprocess(image: ImageLike, p: Preprocessing): { input: Float32Array; dims: number[] } {
  const { width: w, height: h } = image;
  if (!(w > 0 && h > 0)) throw new PreprocessingError(`the image is ${w} × ${h} pixels`);
  if (image.data.length < w * h * 4)
    throw new PreprocessingError(`the image has ${image.data.length} bytes for ${w} × ${h} RGBA pixels`);
  if (!(p.width > 0 && p.height > 0 && Number.isInteger(p.width) && Number.isInteger(p.height)))
    throw new PreprocessingError(`the target size ${p.width} × ${p.height} is not a positive whole size`);
  if (p.mean.length < p.channels || p.std.length < p.channels || p.std.some((s) => s === 0))
    throw new PreprocessingError(`mean and std need ${p.channels} value(s) each, and std no zero`);
  // Planes in 0..255, alpha composited over black (a transparent pixel is background).
  const planes = Array.from({ length: p.channels }, () => new Float64Array(w * h));
  let total = 0;
  for (let i = 0; i < w * h; i++) {
    const a = (image.data[i * 4 + 3] as number) / 255;
    const [r, g, b] = [0, 1, 2].map((k) => (image.data[i * 4 + k] as number) * a) as [number, number, number];
    if (p.channels === 1) (planes[0] as Float64Array)[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    else [r, g, b].forEach((v, k) => ((planes[k] as Float64Array)[i] = v));
    total += p.channels === 1 ? ((planes[0] as Float64Array)[i] as number) : (r + g + b) / 3;
  }
  const darkOnLight = total / (w * h) > 127.5;
  const invert =
    (p.polarity === 'bright-on-dark' && darkOnLight) || (p.polarity === 'dark-on-bright' && !darkOnLight);
  const resized = planes.map((plane) => resizePlane(plane, w, h, p.width, p.height));
  const n = p.width * p.height;
  const input = new Float32Array(n * p.channels);
  for (let c = 0; c < p.channels; c++) {
    const plane = resized[c] as Float64Array;
    const mean = p.mean[c] as number;
    const std = p.std[c] as number;
    for (let i = 0; i < n; i++) {
      const v = invert ? 255 - (plane[i] as number) : (plane[i] as number);
      input[p.layout === 'NCHW' ? c * n + i : i * p.channels + c] = (v * p.scale - mean) / std;
    }
  }
  return {
    input,
    dims: p.layout === 'NCHW' ? [1, p.channels, p.height, p.width] : [1, p.height, p.width, p.channels],
  };
}
