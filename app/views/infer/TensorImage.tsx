// An input tensor drawn as an image when it looks like one ([1|3, H, W] after the batch
// dimension): each value scaled from its min..max to 0..255, enlarged without smoothing.
import { useEffect, useRef } from 'react';

export function imageShape(dims: readonly number[]): { c: number; h: number; w: number } | undefined {
  const rest = dims[0] === 1 ? dims.slice(1) : dims;
  if (rest.length === 2) return { c: 1, h: rest[0] as number, w: rest[1] as number };
  if (rest.length === 3 && (rest[0] === 1 || rest[0] === 3))
    return { c: rest[0], h: rest[1] as number, w: rest[2] as number };
  return undefined;
}

export function TensorImage({
  data,
  dims,
  size = 112,
  label,
}: {
  data: Float32Array;
  dims: readonly number[];
  size?: number;
  label: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const shape = imageShape(dims);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !shape) return;
    const { c, h, w } = shape;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = hi > lo ? hi - lo : 1;
    const image = new ImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) {
        const v = data[(c === 3 ? k * h * w : 0) + i] as number;
        image.data[i * 4 + k] = Math.round(((v - lo) / span) * 255);
      }
      image.data[i * 4 + 3] = 255;
    }
    canvas.width = w;
    canvas.height = h;
    canvas.getContext('2d')?.putImageData(image, 0, 0);
  }, [data, shape?.c, shape?.h, shape?.w]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!shape) return <p className="muted">Input [{dims.join(', ')}] (not an image).</p>;
  const scale = size / Math.max(shape.h, shape.w);
  return (
    <canvas
      ref={ref}
      className="tensor-image"
      role="img"
      aria-label={label}
      style={{ width: shape.w * scale, height: shape.h * scale }}
    />
  );
}
