// The editable preprocessing of an image input, prefilled from the manifest or the graph's shape.
import type { Preprocessing } from '../../../src/inference/image';

const list = (xs: readonly number[]) => xs.join(', ');
const parseList = (s: string) =>
  s
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);

export function PreprocessingForm({
  value,
  onChange,
}: {
  value: Preprocessing;
  onChange: (p: Preprocessing) => void;
}) {
  const set = (patch: Partial<Preprocessing>) => onChange({ ...value, ...patch });
  return (
    <fieldset className="preprocessing" aria-label="Preprocessing">
      <legend>Preprocessing</legend>
      <label>
        Width
        <input
          type="number"
          min={1}
          value={value.width}
          onChange={(e) => set({ width: Number(e.target.value) })}
        />
      </label>
      <label>
        Height
        <input
          type="number"
          min={1}
          value={value.height}
          onChange={(e) => set({ height: Number(e.target.value) })}
        />
      </label>
      <label>
        Channels
        <select value={value.channels} onChange={(e) => set({ channels: Number(e.target.value) as 1 | 3 })}>
          <option value={1}>1 (grey)</option>
          <option value={3}>3 (RGB)</option>
        </select>
      </label>
      <label>
        Layout
        <select
          value={value.layout}
          onChange={(e) => set({ layout: e.target.value as Preprocessing['layout'] })}
        >
          <option>NCHW</option>
          <option>NHWC</option>
        </select>
      </label>
      <label className="wide">
        Scale
        <input
          type="number"
          step="any"
          value={value.scale}
          title="Multiplies the 0..255 pixel values"
          onChange={(e) => set({ scale: Number(e.target.value) })}
        />
      </label>
      <label>
        Mean
        <input
          type="text"
          defaultValue={list(value.mean)}
          onBlur={(e) => set({ mean: parseList(e.target.value) })}
        />
      </label>
      <label>
        Std
        <input
          type="text"
          defaultValue={list(value.std)}
          onBlur={(e) => set({ std: parseList(e.target.value) })}
        />
      </label>
      <label className="wide">
        Polarity
        <select
          value={value.polarity}
          onChange={(e) => set({ polarity: e.target.value as Preprocessing['polarity'] })}
        >
          <option value="as-is">as it is</option>
          <option value="bright-on-dark">bright on dark</option>
          <option value="dark-on-bright">dark on bright</option>
        </select>
      </label>
    </fieldset>
  );
}
