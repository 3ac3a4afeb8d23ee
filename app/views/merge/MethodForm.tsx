// The merge method and its parameters, generic over the method table (src/merge/method-params.ts):
// every method the CLI takes, grouped by family, each parameter with its default, its range and a
// line of help. Each value is checked as it is typed (app/state/merge.ts paramErrors): the problem
// shows under its field and Merge waits for it.
import { useId } from 'react';
import { useStore } from 'zustand';
import {
  FAMILIES,
  FAMILY_TITLES,
  formDefault,
  METHOD_TABLE,
  methodsOf,
  rangeWords,
  type AnyMethodName,
  type ParamInfo,
  type ParamValue,
} from '../../../src/merge/method-params';
import { mergeStore, paramErrors, setParam, valuesOf } from '../../state/merge';

/** The field's error line and its hint (default and range), tied to the input for screen readers. */
function Notes({ id, error, hint }: { id: string; error: string | undefined; hint: string }) {
  return (
    <>
      {error !== undefined ? (
        <span className="field-error" id={id} role="alert">
          {error}
        </span>
      ) : (
        <span className="field-hint" id={id}>
          {hint}
        </span>
      )}
    </>
  );
}

/** The default and range of a parameter in the unit the form shows (k in %). */
function hintOf(p: ParamInfo): string {
  switch (p.kind) {
    case 'number':
    case 'integer':
    case 'per-task': {
      const scale = p.kind === 'per-task' ? 1 : (p.scale ?? 1);
      const unit = p.kind === 'per-task' || !p.unit ? '' : ` ${p.unit}`;
      const words = rangeWords(p);
      if (p.kind === 'number' && p.emptyMeans !== undefined)
        return `default ${p.emptyMeans}, left empty${words ? `; ${words}` : ''}`;
      return `default ${+(p.default * scale).toPrecision(12)}${unit}${words ? `; ${words}` : ''}`;
    }
    case 'boolean':
      return `default ${p.default ? 'on' : 'off'}`;
    case 'choice':
      return `default ${p.options.find((o) => o.value === p.default)?.label ?? p.default}`;
    case 'names':
      return 'none by default';
  }
}

function ParamField({ p, value, error }: { p: ParamInfo; value: ParamValue; error: string | undefined }) {
  const inputId = useId();
  const notesId = `${inputId}-notes`;
  // The notes sit outside the label, so the field's accessible name is its label alone.
  const described = { id: inputId, 'aria-describedby': notesId };
  const notes = <Notes id={notesId} error={error} hint={hintOf(p)} />;
  switch (p.kind) {
    case 'boolean':
      return (
        <div className="field checkbox-field" title={p.help}>
          <label>
            <input
              type="checkbox"
              checked={value === true}
              {...described}
              onChange={(e) => setParam(p.name, e.currentTarget.checked)}
            />{' '}
            {p.label}
          </label>
          {notes}
        </div>
      );
    case 'choice':
      return (
        <div className="field" title={p.help}>
          <label htmlFor={inputId}>{p.label}</label>
          <select
            value={String(value)}
            {...described}
            onChange={(e) => setParam(p.name, e.currentTarget.value)}
          >
            {p.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          {notes}
        </div>
      );
    case 'per-task':
    case 'names':
      return (
        <div className="field" title={p.help}>
          <label htmlFor={inputId}>{p.label}</label>
          <input
            type="text"
            className={p.kind === 'names' ? 'names-input' : 'list-input'}
            value={String(value)}
            aria-invalid={error !== undefined}
            {...described}
            onChange={(e) => setParam(p.name, e.currentTarget.value)}
          />
          {notes}
        </div>
      );
    case 'number':
    case 'integer': {
      const scale = p.scale ?? 1;
      const v = typeof value === 'number' ? value : Number.NaN;
      const { min, max } = p.range;
      return (
        <div className="field" title={p.help}>
          <label htmlFor={inputId}>{p.label}</label>
          <input
            type="number"
            // toPrecision: 0.07 × 100 shows as 7, not 7.000000000000001
            value={Number.isFinite(v) ? +(v * scale).toPrecision(12) : ''}
            step={p.step}
            {...(min !== undefined ? { min: +(min * scale).toPrecision(12) } : {})}
            {...(max !== undefined ? { max: +(max * scale).toPrecision(12) } : {})}
            aria-invalid={error !== undefined}
            {...described}
            onChange={(e) => setParam(p.name, e.currentTarget.valueAsNumber / scale)}
          />
          {notes}
        </div>
      );
    }
  }
}

export function MethodForm() {
  const s = useStore(mergeStore);
  const errors = paramErrors(s);
  const values = valuesOf(s);
  const info = METHOD_TABLE[s.method];
  const methodId = useId();
  return (
    <div className="method-form">
      <div className="field">
        <label htmlFor={methodId}>Method</label>
        <select
          id={methodId}
          aria-describedby={`${methodId}-output`}
          value={s.method}
          onChange={(e) => mergeStore.setState({ method: e.currentTarget.value as AnyMethodName })}
        >
          {FAMILIES.map((f) => (
            <optgroup key={f} label={FAMILY_TITLES[f]}>
              {methodsOf(f).map((m) => (
                <option key={m} value={m}>
                  {METHOD_TABLE[m].title}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <span className="field-hint" id={`${methodId}-output`} data-testid="method-output">
          {s.method} · {info.output === 'per-task' ? 'a model per task' : 'one model for every task'}
        </span>
      </div>
      {info.params.map((p) => (
        <ParamField
          key={`${s.method}.${p.name}`}
          p={p}
          value={values[p.name] ?? formDefault(p)}
          error={errors.params[p.name]}
        />
      ))}
      {errors.method !== undefined && (
        <p className="field-error method-error" role="alert">
          {errors.method}
        </p>
      )}
    </div>
  );
}
