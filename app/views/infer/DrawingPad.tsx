// Draw an input with the mouse, a pen or a finger: bright strokes on a dark square, as the
// digits-8 models saw their training digits. Each finished stroke hands the picture on.
import { useEffect, useRef } from 'react';

const SIZE = 192;

export function DrawingPad({ onImage }: { onImage: (image: ImageData) => void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const clear = () => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, SIZE, SIZE);
  };
  useEffect(clear, []);
  const at = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) * SIZE) / r.width, ((e.clientY - r.top) * SIZE) / r.height] as const;
  };
  const ctx = () => {
    const c = ref.current?.getContext('2d', { willReadFrequently: true });
    if (c) {
      c.strokeStyle = '#fff';
      c.lineWidth = SIZE / 9;
      c.lineCap = 'round';
      c.lineJoin = 'round';
    }
    return c;
  };
  return (
    <div className="drawing-pad">
      <canvas
        ref={ref}
        width={SIZE}
        height={SIZE}
        aria-label="Drawing pad: draw a digit"
        data-testid="drawing-pad"
        onPointerDown={(e) => {
          drawing.current = true;
          e.currentTarget.setPointerCapture(e.pointerId);
          const c = ctx();
          const [x, y] = at(e);
          c?.beginPath();
          c?.moveTo(x, y);
          c?.lineTo(x + 0.01, y);
          c?.stroke();
        }}
        onPointerMove={(e) => {
          if (!drawing.current) return;
          const c = ctx();
          const [x, y] = at(e);
          c?.lineTo(x, y);
          c?.stroke();
        }}
        onPointerUp={() => {
          if (!drawing.current) return;
          drawing.current = false;
          const c = ctx();
          if (c) onImage(c.getImageData(0, 0, SIZE, SIZE));
        }}
      />
      <button type="button" onClick={clear}>
        Clear
      </button>
    </div>
  );
}
