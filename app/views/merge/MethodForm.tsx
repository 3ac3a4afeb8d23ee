// The merge method and its parameters, with the papers' defaults. Each number is checked as it is
// typed (app/state/merge.ts paramErrors): the problem shows under the field and Merge waits for it.
import { useId } from 'react';
import { useStore } from 'zustand';
import { METHOD_NAMES, METHOD_TITLES, type MethodName, type RescaleMode } from '../../../src/merge/methods';
import { mergeStore, paramErrors } from '../../state/merge';

/** A number shown as value × scale (TIES's k is a fraction in the spec and a percentage here). */
function NumberField({
  label,
  value,
  scale = 1,
  step,
  min,
  max,
  error,
  onChange,
}: {
  label: string;
  value: number;
  scale?: number;
  step: number;
  min?: number;
  max?: number;
  error: string | undefined;
  onChange: (v: number) => void;
}) {
  const errorId = useId();
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        // toPrecision: 0.07 × 100 shows as 7, not 7.000000000000001
        value={Number.isFinite(value) ? +(value * scale).toPrecision(12) : ''}
        step={step}
        {...(min !== undefined ? { min } : {})}
        {...(max !== undefined ? { max } : {})}
        aria-invalid={error !== undefined}
        {...(error !== undefined ? { 'aria-describedby': errorId } : {})}
        onChange={(e) => onChange(e.currentTarget.valueAsNumber / scale)}
      />
      {error !== undefined && (
        <span className="field-error" id={errorId} role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

export function MethodForm() {
  const s = useStore(mergeStore);
  const set = (patch: Partial<typeof s>) => mergeStore.setState(patch);
  const errors = paramErrors(s);
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
        <NumberField
          label="λ"
          value={s.taLambda}
          step={0.05}
          min={0}
          error={errors.taLambda}
          onChange={(v) => set({ taLambda: v })}
        />
      )}
      {s.method === 'ties' && (
        <>
          <NumberField
            label="k, share of |τ| kept (%)"
            value={s.tiesK}
            scale={100}
            step={5}
            min={1}
            max={100}
            error={errors.tiesK}
            onChange={(v) => set({ tiesK: v })}
          />
          <NumberField
            label="λ"
            value={s.tiesLambda}
            step={0.05}
            min={0}
            error={errors.tiesLambda}
            onChange={(v) => set({ tiesLambda: v })}
          />
        </>
      )}
    </div>
  );
}
