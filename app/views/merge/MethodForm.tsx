// The merge method and its parameters, with the papers' defaults.
import { useStore } from 'zustand';
import { METHOD_NAMES, METHOD_TITLES, type MethodName, type RescaleMode } from '../../../src/merge/methods';
import { mergeStore } from '../../state/merge';

function NumberField({
  label,
  value,
  step,
  min,
  max,
  onChange,
}: {
  label: string;
  value: number;
  step: number;
  min?: number;
  max?: number;
  onChange: (v: number) => void;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        value={Number.isFinite(value) ? value : ''}
        step={step}
        {...(min !== undefined ? { min } : {})}
        {...(max !== undefined ? { max } : {})}
        onChange={(e) => onChange(e.currentTarget.valueAsNumber)}
      />
    </label>
  );
}

export function MethodForm() {
  const s = useStore(mergeStore);
  const set = (patch: Partial<typeof s>) => mergeStore.setState(patch);
  return (
    <div className="method-form">
      <label className="field">
        <span>Method</span>
        <select value={s.method} onChange={(e) => set({ method: e.currentTarget.value as MethodName })}>
          {METHOD_NAMES.map((m) => (
            <option key={m} value={m}>
              {METHOD_TITLES[m]}
            </option>
          ))}
        </select>
      </label>
      {s.method === 'emr' && (
        <label className="field">
          <span>Rescale</span>
          <select value={s.rescale} onChange={(e) => set({ rescale: e.currentTarget.value as RescaleMode })}>
            <option value="tensor-mean">Σ per-tensor means (paper)</option>
            <option value="global">global sums</option>
          </select>
        </label>
      )}
      {s.method === 'ta' && (
        <NumberField label="λ" value={s.taLambda} step={0.05} onChange={(v) => set({ taLambda: v })} />
      )}
      {s.method === 'ties' && (
        <>
          <NumberField
            label="k (kept share)"
            value={s.tiesK}
            step={0.05}
            min={0.01}
            max={1}
            onChange={(v) => set({ tiesK: v })}
          />
          <NumberField label="λ" value={s.tiesLambda} step={0.05} onChange={(v) => set({ tiesLambda: v })} />
        </>
      )}
    </div>
  );
}
