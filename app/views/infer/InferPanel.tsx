// Step 4: try every task's model on an input — a labeled sample, a drawing, an image or a tensor
// file — under the individual fine-tune and every method, side by side; or let routing pick the task.
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { filesStore } from '../../state/files';
import { classNames, inferStore, type InputSource } from '../../state/infer';
import { chooseTask, loadDemoAssets, onNewResult, showSample } from '../../state/infer-actions';
import { mergeStore } from '../../state/merge';
import { useMergeStale } from '../useStale';
import { Attachments } from './Attachments';
import { InputBench } from './InputBench';
import { Outputs } from './Outputs';
import { ProviderSelect } from './ProviderSelect';
import { TokenPieces } from './TextBench';

const SOURCES: { id: InputSource; label: string; text?: boolean; image?: boolean }[] = [
  { id: 'sample', label: 'Labeled sample' },
  { id: 'text', label: 'Type text', text: true },
  { id: 'draw', label: 'Draw', image: true },
  { id: 'image', label: 'Image file', image: true },
  { id: 'tensor', label: 'Tensor file', image: true },
];

export function InferPanel() {
  const result = useStore(mergeStore, (s) => s.result);
  const origin = useStore(filesStore, (s) => s.origin);
  const state = useStore(inferStore);
  const { setup, outcome, input } = state;

  useEffect(() => {
    if (!result) return;
    void (async () => {
      if (origin === 'demo') await loadDemoAssets();
      await onNewResult();
      // First visit: put a sample on the bench so the panel shows something at once.
      const s = inferStore.getState();
      const first = s.setup?.tasks[0];
      if (!s.input && first?.labeled && first.graph) await showSample(first.name, 0);
    })();
  }, [result?.id, origin]); // eslint-disable-line react-hooks/exhaustive-deps

  // ui1: outputs of another input, input mode or merge than those on screen are marked.
  const mergeIsStale = useMergeStale();
  const outdated = mergeIsStale
    ? 'merge again: these outputs are of a merge whose inputs changed.'
    : state.outcomeFor && (state.outcomeFor.input !== input || state.outcomeFor.source !== state.source)
      ? `these outputs are for ${state.outcomeFor.input.caption}; run the new input.`
      : state.textEdited && state.source === 'text'
        ? 'the text was edited: Run it to see its outputs.'
        : undefined;
  const taskNames = setup?.tasks.map((t) => t.name) ?? [];
  const shownTask = outcome?.ok ? outcome.task : state.task === 'auto' ? undefined : state.task;
  const shownName = shownTask === undefined ? undefined : taskNames[shownTask];
  const sameTask = input?.sample ? input.sample.task === shownName : true;
  // The inputs the chosen task's graph takes: text, an image (or tensor), or both.
  const benchSetup = setup?.tasks[state.task === 'auto' ? 0 : state.task];
  const takesText = !!benchSetup?.text;
  const takesImage = !benchSetup?.text || !!benchSetup.floatInput;
  const sources = SOURCES.filter((s) => (!s.text || takesText) && (!s.image || takesImage));
  return (
    <section className="panel" aria-labelledby="infer-title" id="infer">
      <h2 id="infer-title">
        <span className="step">4</span> Try each task's model
      </h2>
      {!result || !setup ? (
        <p className="muted">
          Merge first: then every task's model runs here, beside the individual model and the baselines.
        </p>
      ) : (
        <>
          <Attachments setup={setup} />
          <div className="toolbar infer-controls">
            <label>
              Task{' '}
              <select
                aria-label="Task to run"
                value={String(state.task)}
                onChange={(e) => void chooseTask(e.target.value === 'auto' ? 'auto' : Number(e.target.value))}
              >
                {setup.tasks.map((t, i) => (
                  <option key={t.name} value={i}>
                    {t.name}
                  </option>
                ))}
                <option value="auto">Auto (route by confidence)</option>
              </select>
            </label>
            <ProviderSelect />
            <div className="segmented" role="radiogroup" aria-label="Input">
              {sources.map((s) => (
                <button
                  key={s.id}
                  type="button"
                  role="radio"
                  aria-checked={state.source === s.id}
                  onClick={() => inferStore.setState({ source: s.id })}
                >
                  {s.label}
                </button>
              ))}
            </div>
          </div>
          <div className="infer-body">
            <InputBench setup={setup} />
            <div className="infer-results">
              {state.running && <p className="muted">Running…</p>}
              {outcome && !outcome.ok && (
                <p className="error" role="alert">
                  {outcome.message}
                </p>
              )}
              {outcome?.ok && outdated && (
                <p className="stale-mark" data-testid="infer-stale" role="status">
                  Out of date — {outdated}
                </p>
              )}
              {outcome?.ok && outcome.tokens && (
                <TokenPieces tokens={outcome.tokens} truncated={outcome.truncated === true} />
              )}
              {outcome?.ok && (
                <Outputs
                  outputs={outcome.outputs}
                  classes={shownName ? classNames(state, shownName) : undefined}
                  label={sameTask ? input?.label : undefined}
                  routing={outcome.routing}
                  taskNames={taskNames}
                />
              )}
            </div>
          </div>
        </>
      )}
    </section>
  );
}
