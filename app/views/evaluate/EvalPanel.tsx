// Step 5: the paper's table on the user's labeled data — rows are methods, columns tasks, with the
// average and the normalized accuracy (merged ⁄ individual); a bar chart; CSV and Markdown out.
import { useStore } from 'zustand';
import { mean, normalized, ROUTER_ROW, tableToCsv, tableToMarkdown } from '../../../src/inference/table';
import type { EvalReport } from '../../../src/inference/eval-table';
import { inferStore, secondsLeft } from '../../state/infer';
import { evalInputs, evalStaleness } from '../../state/stale';
import { useMergeStale } from '../useStale';
import { formatSeconds } from '../../lib/format';
import { cancelEvaluation, evalColumns, startEvaluation, toggleColumn } from '../../state/infer-actions';
import { mergeStore } from '../../state/merge';
import { gpuStore } from '../../gpu/store';
import { currentProvider } from '../../state/provider';
import type { Column } from '../../worker/protocol';
import { AccuracyChart } from './AccuracyChart';
import { ParetoChart } from './ParetoChart';
import { methodPoints, paretoProps } from '../../state/method-points';
import { chooseStore } from '../../state/choose';
import { ChoosePanel } from './ChoosePanel';

const pct = (x: number) => (x * 100).toFixed(1);

function download(text: string, name: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function Table({ report }: { report: EvalReport }) {
  const individual = report.rows[0];
  return (
    <table className="numbers eval-table" data-testid="eval-table">
      <thead>
        <tr>
          <th scope="col">Method</th>
          {report.tasks.map((t) => (
            <th key={t} scope="col">
              {t}
            </th>
          ))}
          <th scope="col">Avg</th>
          <th scope="col">Normalized</th>
        </tr>
      </thead>
      <tbody>
        {report.rows.map((r) => (
          <tr key={r.method} data-method={r.method}>
            <th scope="row">{r.method}</th>
            {r.accuracy.map((a, t) => (
              <td key={report.tasks[t]} data-accuracy={a}>
                {pct(a)}
              </td>
            ))}
            <td data-accuracy={mean(r.accuracy)}>
              <strong>{pct(mean(r.accuracy))}</strong>
            </td>
            <td>
              {individual && r !== individual ? pct(normalized(r, individual)) : individual ? '100.0' : ''}
            </td>
          </tr>
        ))}
        {report.routing && (
          <tr className="router-row" data-method={ROUTER_ROW}>
            <th scope="row">{ROUTER_ROW}</th>
            {report.routing.picked.map((p, t) => (
              <td key={report.tasks[t]} data-picked={p}>
                {pct(p)}
              </td>
            ))}
            <td>{pct(mean(report.routing.picked))}</td>
            <td />
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** Where each task's inputs were routed: rows the true task, columns the task picked. */
function RoutingPicks({ report }: { report: EvalReport }) {
  const picks = report.routing?.picks;
  if (!picks) return null;
  return (
    <details className="routing-picks">
      <summary>Where routing sent each task's inputs</summary>
      <table className="numbers" data-testid="routing-picks">
        <thead>
          <tr>
            <th scope="col">inputs of ↓ · sent to →</th>
            {report.tasks.map((t) => (
              <th key={t} scope="col">
                {t}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {picks.map((row, t) => (
            <tr key={report.tasks[t]}>
              <th scope="row">{report.tasks[t]}</th>
              {row.map((n, u) => (
                <td key={report.tasks[u]} className={t === u ? 'diagonal' : undefined}>
                  {n}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        Tasks that receive the same inputs (on digits-8: plain, parity and ge5) cannot be told apart from the
        input alone; see docs/inference.md.
      </p>
    </details>
  );
}

const COLUMN_LABELS: Partial<Record<Column, string>> = {
  individual: 'Individual',
  avg: 'Weight averaging',
  ta: 'Task Arithmetic',
  ties: 'TIES-Merging',
  emr: 'EMR-Merging',
};

export function EvalPanel() {
  const result = useStore(mergeStore, (s) => s.result);
  const kept = useStore(mergeStore, (s) => s.kept);
  const setup = useStore(inferStore, (s) => s.setup);
  const gpu = useStore(gpuStore);
  const provider = currentProvider(
    useStore(inferStore, (s) => s.provider),
    gpu,
  );
  const evaluation = useStore(inferStore, (s) => s.evaluation);
  const choosing = useStore(chooseStore, (s) => s.running);
  // A graph that takes text needs the tokenizer too (its labeled texts are tokenized in the worker).
  const ready =
    setup?.tasks.every((t) => t.graph && !t.graphProblem && t.labeled && (!t.text || setup.tokenizer)) ??
    false;
  const { report, progress } = evaluation;
  // ui1: a report whose merge, graphs or labeled sets changed since it ran is marked out of date.
  const mergeIsStale = useMergeStale();
  const stale = evalStaleness(report, evaluation.inputs, {
    merge: mergeIsStale,
    inputs: evalInputs(result, setup),
  });
  const left = evaluation.running
    ? secondsLeft(progress, evaluation.startedAt, progress?.at ?? 0)
    : undefined;
  return (
    <section className="panel" aria-labelledby="eval-title" id="evaluate">
      <h2 id="eval-title">
        <span className="step">5</span> Evaluate
      </h2>
      {!result || !setup ? (
        <p className="muted">Merge first.</p>
      ) : (
        <>
          <p className="muted">
            Accuracy of every task's model on its labeled set, laid out like the paper's tables: a row for
            each method you merged (the results kept, one per method) and the paper's methods you did not
            merge, with their default parameters; the routed rows run every input through every task's model
            of EMR (or of a per-task method) and pick the task whose answer is most confident (lowest
            normalized entropy).
          </p>
          <ChoosePanel ready={ready} evaluating={evaluation.running} />
          <div className="toolbar">
            {evalColumns(
              setup.columns.map((c) => c.column),
              [],
            ).map((c) => (
              <label key={c}>
                <input
                  type="checkbox"
                  checked={!evaluation.off.includes(c)}
                  onChange={(e) => toggleColumn(c, e.target.checked)}
                />{' '}
                {c in COLUMN_LABELS
                  ? COLUMN_LABELS[c as keyof typeof COLUMN_LABELS]
                  : (setup.columns.find((x) => x.column === c)?.label ?? c)}
              </label>
            ))}
            <label>
              <input
                type="checkbox"
                checked={evaluation.routed}
                onChange={(e) =>
                  inferStore.setState((s) => ({ evaluation: { ...s.evaluation, routed: e.target.checked } }))
                }
              />{' '}
              Routed row (no task id)
            </label>
            <button
              type="button"
              className="primary"
              disabled={!ready || evaluation.running || choosing}
              onClick={() => void startEvaluation()}
            >
              Evaluate on {provider === 'webgpu' ? 'WebGPU' : 'wasm'}
            </button>
            {evaluation.running && (
              <button type="button" onClick={() => void cancelEvaluation()}>
                Cancel
              </button>
            )}
          </div>
          {!ready && (
            <p className="hint">
              Every task needs an ONNX graph and a labeled set, and graphs that take text a tokenizer (step 4,
              “Graphs and labeled sets”).
            </p>
          )}
          {evaluation.running && (
            <div className="progress" data-testid="eval-progress">
              <progress
                value={progress ? progress.done / Math.max(1, progress.total) : 0}
                max={1}
                aria-label="Evaluation progress"
              />
              <p className="muted">
                {progress
                  ? `${progress.done} of ${progress.total} model runs on samples`
                  : 'Building the models…'}
                {evaluation.methods && (
                  <span data-testid="eval-methods">
                    {' '}
                    · {evaluation.methods.done} of {evaluation.methods.total} methods finished
                  </span>
                )}
                {left !== undefined && (
                  <span data-testid="eval-eta"> · about {formatSeconds(left)} left</span>
                )}
              </p>
            </div>
          )}
          {evaluation.message && (
            <p
              className={evaluation.message.includes('cancelled') ? 'notice' : 'error'}
              role="alert"
              data-testid="eval-notice"
            >
              {evaluation.message}
            </p>
          )}
          {report && (
            <div data-testid="eval-report" data-partial={evaluation.partial ? 'true' : undefined}>
              {stale && (
                <p className="stale-mark" data-testid="eval-stale" role="status">
                  Out of date — {stale}: the{' '}
                  {stale === 'merge again' ? 'merge inputs' : 'result, graphs or labeled sets'} changed since
                  this table was computed.
                </p>
              )}
              {evaluation.partial && (
                <p className="muted small" data-testid="eval-partial">
                  Partial table: the evaluation was cancelled; only the methods that finished are shown.
                </p>
              )}
              <p className="muted small">
                Ran on onnxruntime-web ({report.providers.join(', ')}).
                {report.routing &&
                  ` Routing picked the right task for ${pct(report.routing.pickedAll)} % of all inputs; routed accuracy over all inputs ${pct(report.routing.accuracyAll)} %.`}
              </p>
              <Table report={report} />
              <RoutingPicks report={report} />
              <AccuracyChart report={report} />
              <ParetoChart
                {...paretoProps(
                  methodPoints(
                    report,
                    result,
                    kept.map((k) => k.summary),
                  ),
                  result,
                )}
              />
              <div className="toolbar">
                <button
                  type="button"
                  onClick={() => download(tableToCsv(report), 'accuracy.csv', 'text/csv')}
                >
                  Download CSV
                </button>
                <button
                  type="button"
                  onClick={() => download(tableToMarkdown(report), 'accuracy.md', 'text/markdown')}
                >
                  Download Markdown
                </button>
              </div>
            </div>
          )}
        </>
      )}
    </section>
  );
}
