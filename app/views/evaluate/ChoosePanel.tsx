// The Evaluate step's "Choose λ on the labeled sets": for each kept TALL masks / Consensus result,
// its λ_t and α — chosen on the labeled sets (which won, from which grid, as the CLI's line says),
// at the default and choosable, or as set — and the button that runs the choice, with its progress
// and Cancel. The choice replaces the kept result; Evaluate then measures it (docs/inference.md).
import { useStore } from 'zustand';
import { describeMethod } from '../../../src/merge/methods';
import { PERTASK_TITLES, isPerTaskSpec } from '../../../src/merge/pertask/spec';
import { formatSeconds } from '../../lib/format';
import {
  cancelChoosing,
  chooseStore,
  choosableResults,
  startChoosing,
  type ChooseState,
} from '../../state/choose';
import { secondsLeft } from '../../state/infer';
import { mergeStore } from '../../state/merge';
import { choiceFor } from '../../worker/choose-lambda';
import type { MergeSummary } from '../../worker/protocol';

const list = (v: number | readonly number[]) => (typeof v === 'number' ? `${v}` : v.join(', '));
const grid = (g: readonly number[]) => `{${g.join(', ')}}`;

/** What a kept result's λ_t and α are, in words: a line each, with the values for tests to read. */
function Values({
  summary,
  chosen,
}: {
  summary: MergeSummary;
  chosen: ChooseState['chosen'][number] | undefined;
}) {
  const spec = summary.spec;
  if (!isPerTaskSpec(spec) || spec.method === 't_switch' || spec.method === 'tsv_c') return null;
  const names = summary.tasks.map((t) => t.name);
  const open = chosen ? undefined : choiceFor(spec);
  const tall = spec.method === 'tall_mask' ? spec.lambda : spec.tallLambda;
  const symbol = spec.method === 'tall_mask' ? 'λ_t' : 'mask λ_t';
  const lines: { key: string; text: string; state: string }[] = [];
  if (chosen?.tallLambda) {
    const won = chosen.tallLambda.chosen;
    lines.push({
      key: 'tall',
      state: 'chosen',
      text: `${symbol} chosen on the labeled sets from ${grid(chosen.tallLambda.grid)}: ${names.map((n, t) => `${n} ${won[t]}`).join(', ')}`,
    });
  } else if (open?.tallLambda)
    lines.push({
      key: 'tall',
      state: 'default',
      text: `${symbol} = ${list(tall)} (the default): chosen per task when you choose λ`,
    });
  else lines.push({ key: 'tall', state: 'set', text: `${symbol} = ${list(tall)}, as set` });
  if (spec.method !== 'tall_mask') {
    if (chosen?.alpha)
      lines.push({
        key: 'alpha',
        state: 'chosen',
        text: `α chosen on the labeled sets from ${grid(chosen.alpha.grid)} (mean normalized accuracy): ${chosen.alpha.chosen}`,
      });
    else if (open?.alpha)
      lines.push({
        key: 'alpha',
        state: 'default',
        text: `α = ${spec.lambda} (the default): chosen when you choose λ`,
      });
    else lines.push({ key: 'alpha', state: 'set', text: `α = ${spec.lambda}, as set` });
  }
  const lambdas = typeof tall === 'number' ? names.map(() => tall) : tall;
  return (
    <li
      data-testid="choice"
      data-method={spec.method}
      data-lambdas={lambdas.join(',')}
      {...(spec.method === 'tall_mask' ? {} : { 'data-alpha': spec.lambda })}
    >
      <strong title={describeMethod(spec)}>{PERTASK_TITLES[spec.method]}</strong>
      <ul>
        {lines.map((l) => (
          <li key={l.key} data-state={l.state}>
            {l.text}
          </li>
        ))}
      </ul>
    </li>
  );
}

export function ChoosePanel({ ready, evaluating }: { ready: boolean; evaluating: boolean }) {
  const kept = useStore(mergeStore, (s) => s.kept);
  const screen = useStore(mergeStore, (s) => s.result);
  const merging = useStore(mergeStore, (s) => s.running);
  const state = useStore(chooseStore);
  const shown = kept.filter(
    (k) => k.summary.spec.method === 'tall_mask' || k.summary.spec.method.startsWith('consensus_'),
  );
  if (!shown.length) return null;
  const open = choosableResults(kept, screen, state.chosen);
  const { progress } = state;
  const left = state.running ? secondsLeft(progress, state.startedAt, progress?.at ?? 0) : undefined;
  return (
    <div className="choose-lambda" data-testid="choose-lambda">
      <h3>λ on the labeled sets</h3>
      <p className="muted small">
        TALL masks and Consensus pick their λ on validation data in their authors' code: λ_t per task from{' '}
        {'{0.2, …, 0.6}'} by each task's accuracy, and Consensus' α from {'{0.1, …, 1}'} by the mean
        normalized accuracy, as <code>merge-studio eval</code> does. A value you set in step 2 is kept.
      </p>
      <ul className="choices">
        {shown.map((k) => (
          <Values key={k.summary.id} summary={k.summary} chosen={state.chosen[k.summary.id]} />
        ))}
      </ul>
      <div className="toolbar">
        <button
          type="button"
          data-testid="choose-start"
          disabled={!ready || !open.length || state.running || evaluating || merging}
          onClick={() => void startChoosing()}
        >
          Choose λ on labeled sets
        </button>
        {!open.length && !state.running && (
          <span className="muted small" data-testid="choose-none">
            Nothing left to choose: every λ here is chosen or set.
          </span>
        )}
        {state.running && (
          <button type="button" onClick={() => void cancelChoosing()}>
            Cancel
          </button>
        )}
      </div>
      {state.running && (
        <div className="progress" data-testid="choose-progress">
          <progress
            value={progress ? progress.done / Math.max(1, progress.total) : 0}
            max={1}
            aria-label="Choosing λ"
          />
          <p className="muted">
            {progress
              ? `${progress.done} of ${progress.total} task models scored`
              : 'Merging at the first λ…'}
            {left !== undefined && <span> · about {formatSeconds(left)} left</span>}
          </p>
        </div>
      )}
      {state.message && (
        <p
          className={state.message.includes('cancelled') ? 'notice' : 'error'}
          role="alert"
          data-testid="choose-notice"
        >
          {state.message}
        </p>
      )}
    </div>
  );
}
