// Draws a MaskImage at one canvas pixel per cell; CSS scales it (pixelated) for zoom.
import { useEffect, useRef } from 'react';
import type { MaskImage } from '../../worker/protocol';
import { diverging, viridis } from '../../lib/colour';

export function MaskCanvas({ image, zoom, label }: { image: MaskImage; zoom: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    canvas.width = image.cols;
    canvas.height = image.rows;
    const data = ctx.createImageData(image.cols, image.rows);
    const colour = image.mode === 'sign' ? diverging : viridis;
    for (let i = 0; i < image.values.length; i++) {
      const [r, g, b] = colour(image.values[i] as number);
      data.data[i * 4] = r;
      data.data[i * 4 + 1] = g;
      data.data[i * 4 + 2] = b;
      data.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(data, 0, 0);
  }, [image]);
  return (
    <canvas
      ref={ref}
      role="img"
      aria-label={label}
      className="mask-canvas"
      style={{ width: image.cols * zoom, height: image.rows * zoom }}
    />
  );
}
