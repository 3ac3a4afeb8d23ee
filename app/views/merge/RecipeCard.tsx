// Step 2 with a mergekit recipe: the control that imports one (its parse error beside it), and the
// recipe as its own card in place of the method form — its method, base, each model's parameters as
// written (gradients, filters), the dtype, the notes (keys read but not acted on), the loaded files
// its models were found in (or why not) — with a way back to the form.
import { useId, useMemo } from 'react';
import { useStore } from 'zustand';
import type { Conditional, Setting } from '../../../src/merge/mergekit/settings';
import { describeMethod } from '../../../src/merge/methods';
import { filesStore } from '../../state/files';
import { mergeStore, type ImportedRecipe } from '../../state/merge';
import { dropRecipe, importRecipeFile, recipeMatchOf } from '../../state/recipe';

/** A setting as the recipe wrote it: a value, a gradient `[0, 0.5, 1]`, or filters in order. */
export function settingText(s: Setting): string {
  if (!Array.isArray(s)) return String(s);
  const list = s as readonly unknown[];
  if (list.every((v) => typeof v !== 'object')) return `[${list.join(', ')}]`;
  return (list as readonly Conditional[])
    .map(
      (c) =>
        `${c.filter === undefined || c.filter === '*' ? 'else' : c.filter}: ${settingText(c.value as Setting)}`,
    )
    .join('; ');
}

function settingsText(rec: Readonly<Record<string, Setting>> | undefined): string {
  const entries = Object.entries(rec ?? {});
  return entries.length ? entries.map(([k, v]) => `${k} = ${settingText(v)}`).join(', ') : '—';
}

export function RecipeImport() {
  const error = useStore(mergeStore, (s) => s.recipeError);
  const errorId = useId();
  return (
    <div className="toolbar recipe-import">
      <label className="file-button">
        Import mergekit recipe…
        <input
          type="file"
          accept=".yml,.yaml"
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void importRecipeFile(file, file.name);
            e.currentTarget.value = ''; // the same file picked again (after an edit) still fires change
          }}
        />
      </label>
      {error === undefined && (
        <span className="muted small">
          mergekit&apos;s YAML: its models are found among the files loaded, by name.
        </span>
      )}
      {error !== undefined && (
        <span className="field-error recipe-error" id={errorId} role="alert" data-testid="recipe-error">
          {error}
        </span>
      )}
    </div>
  );
}

export function RecipeCard({ recipe }: { recipe: ImportedRecipe }) {
  const checkpoints = useStore(filesStore, (s) => s.checkpoints);
  const match = useMemo(() => recipeMatchOf(checkpoints, recipe), [checkpoints, recipe]);
  const titleId = useId();
  const { job } = recipe;
  const spec = job.method;
  const mergekit = spec.method === 'mergekit' ? spec : undefined;
  const found = match.ok ? match : undefined;
  return (
    <section className="card recipe-card" aria-labelledby={titleId} data-testid="recipe-card">
      <div className="card-head">
        <h3 id={titleId}>mergekit recipe: {recipe.file}</h3>
        <button type="button" onClick={dropRecipe}>
          Drop the recipe (back to the form)
        </button>
      </div>
      <p className="recipe-method" data-testid="recipe-method">
        {describeMethod(spec)}
      </p>
      <dl className="recipe-facts">
        <dt>Base</dt>
        <dd>
          {job.base
            ? `${job.base.ref}${found?.base && found.base.path !== job.base.ref ? ` → ${found.base.path}` : ''}`
            : `none named: ${found?.tasks[0]?.path ?? 'the first model'} stands in to align the tensors`}
        </dd>
        <dt>Parameters</dt>
        <dd data-testid="recipe-parameters">{settingsText(job.given.global)}</dd>
        <dt>Written as</dt>
        <dd>{mergekit?.outDtype ?? 'each model’s own dtype'}</dd>
        {mergekit?.layerRange && (
          <>
            <dt>Slice</dt>
            <dd>layers {mergekit.layerRange.join(' to ')}</dd>
          </>
        )}
      </dl>
      <div className="table-scroll">
        <table className="recipe-models" data-testid="recipe-models">
          <thead>
            <tr>
              <th scope="col">Model (recipe)</th>
              <th scope="col">Loaded file</th>
              <th scope="col">Task</th>
              <th scope="col">Parameters</th>
            </tr>
          </thead>
          <tbody>
            {job.models.map((m, i) => (
              <tr key={`${i}.${m.ref}`}>
                <td>{m.ref}</td>
                <td>{found?.tasks[i]?.path ?? '—'}</td>
                <td>{found?.tasks[i]?.name ?? m.name ?? '—'}</td>
                <td>{settingsText(job.given.models[i])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {job.notes.map((n) => (
        <p key={n} className="muted small recipe-note">
          {n}
        </p>
      ))}
      {found && found.leftOut.length > 0 && (
        <p className="muted small" data-testid="recipe-left-out">
          Not in the recipe, so not merged: {found.leftOut.join(', ')}.
        </p>
      )}
      {!match.ok && (
        <p className="error" role="alert" data-testid="recipe-match">
          {match.message} Nothing is merged until every model is found.
        </p>
      )}
    </section>
  );
}
