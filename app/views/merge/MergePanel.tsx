// Step 2: merge. Method, engine, the Merge and Cancel buttons, progress, and how the last one went.
import { useStore } from 'zustand';
import { describeMethod, taskCountProblem } from '../../../src/merge/methods';
import { cancelMerge, startMerge } from '../../state/actions';
import { filesStore, selectionOf, taskNameProblems } from '../../state/files';
import { mergeStore, paramsInvalid, specOf, type ImportedRecipe } from '../../state/merge';
import { recipePlan } from '../../state/recipe';
import { useMergeStale } from '../useStale';
import { formatBytes, formatSeconds } from '../../lib/format';
import { EngineSelect } from './EngineSelect';
import { MergeProgress } from './MergeProgress';
import { MethodForm } from './MethodForm';
import { RecipeCard, RecipeImport } from './RecipeCard';
import { ResultSwitcher } from './ResultSwitcher';

function useBlocker(recipe: ImportedRecipe | undefined): string | undefined {
  // The method's own count (SLERP: the base and exactly one model), once its parameters are valid.
  const numTasks = useStore(filesStore, (s) => selectionOf(s)?.tasks.length ?? 0);
  const counted = useStore(mergeStore, (s) => {
    const spec = specOf(s);
    return 'spec' in spec ? taskCountProblem(spec.spec, numTasks) : undefined;
  });
  return useStore(filesStore, (s) => {
    // An imported recipe names its own models (RecipeCard says which it found, or why not).
    if (recipe) {
      const plan = recipePlan(s, recipe);
      return 'error' in plan
        ? plan.error === 'Reading headers…'
          ? plan.error
          : 'Load the models the recipe names.'
        : undefined;
    }
    if (s.checkpoints.some((c) => c.status === 'opening')) return 'Reading headers…';
    const selection = selectionOf(s);
    if (!selection || selection.tasks.length < 1) return 'Add a base model and at least two tasks.';
    if (counted) return counted;
    if (taskNameProblems(s).size) return 'Fix the task names first.';
    if (!s.alignment) return 'Checking the files…';
    if (!s.alignment.ok) return s.alignment.message;
    return undefined;
  });
}

export function MergePanel() {
  const running = useStore(mergeStore, (s) => s.running);
  const notice = useStore(mergeStore, (s) => s.notice);
  const result = useStore(mergeStore, (s) => s.result);
  const invalid = useStore(mergeStore, paramsInvalid);
  const recipe = useStore(mergeStore, (s) => s.recipe);
  const blocker =
    useBlocker(recipe) ?? (invalid && !recipe ? 'Fix the method’s parameters first.' : undefined);
  // The result on screen was made from other files, names or parameters than those now.
  const stale = useMergeStale();
  return (
    <section className="panel" aria-labelledby="merge-title" id="merge">
      <h2 id="merge-title">
        <span className="step">2</span> Merge
      </h2>
      <RecipeImport />
      <div className="merge-controls">
        {recipe ? <RecipeCard recipe={recipe} /> : <MethodForm />}
        <EngineSelect />
        <div className="merge-buttons">
          <button
            type="button"
            className="primary"
            disabled={running || blocker !== undefined}
            onClick={() => void startMerge()}
          >
            Merge
          </button>
          <button type="button" disabled={!running} onClick={() => void cancelMerge()}>
            Cancel
          </button>
        </div>
      </div>
      {blocker && !running && <p className="muted">{blocker}</p>}
      <MergeProgress />
      {notice && (
        <p className={notice.kind === 'error' ? 'error' : 'notice'} role="alert" data-testid="merge-notice">
          {notice.message}
        </p>
      )}
      {result && (
        <p className="result-line" data-testid="merge-result" data-merge-id={result.id}>
          {result.source === 'bundle' ? 'Restored from a bundle' : 'Merged'}: {describeMethod(result.spec)},{' '}
          {result.tasks.length} task{result.tasks.length === 1 ? '' : 's'}, {result.tensors.length} shared
          tensors, in {formatSeconds(result.seconds)} on{' '}
          <strong data-testid="merge-engine">{result.engine}</strong>
          {result.bytesRead > 0 ? ` (${formatBytes(result.bytesRead)} read)` : ''}.
        </p>
      )}
      <ResultSwitcher />
      {result && stale && (
        <p className="stale-mark" data-testid="merge-stale" role="status">
          Out of date — merge again: the files, task names or method changed since this result was made.
        </p>
      )}
      {result?.values?.location === 'spill' && (
        <p className="muted" data-testid="merge-spilled">
          τ_uni and the masks ({formatBytes(result.values.bytes)}) did not fit the memory budget: they are
          kept in this browser&apos;s private storage (origin-private file system) and read from there, and
          deleted with this result.
        </p>
      )}
    </section>
  );
}
