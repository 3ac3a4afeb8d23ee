// One input's outputs side by side: a column per model (individual, each method), the top classes
// with their probabilities, and where a merged model's answer differs from the individual model's.
import { disagrees, topK } from '../../../src/inference/outputs';
import type { ColumnOutput, Routing } from '../../worker/protocol';

const TOP = 3;
const MAX_ROWS = 8;
const MAX_VALUES = 10;

/**
 * How to show an output: one row of class scores ([1, K] or [K]); a batch of them, one line a row
 * ([B, K]); anything else (a single value, a map, an embedding) as raw values.
 */
function outputKind(o: ColumnOutput): 'classes' | 'batch' | 'values' {
  const rank = o.dims.length;
  const k = o.dims[rank - 1] ?? 0;
  if (k < 2 || rank > 2) return 'values';
  return rank === 2 && (o.dims[0] ?? 1) > 1 ? 'batch' : 'classes';
}

function rowsOf(o: ColumnOutput): Float32Array[] {
  const k = o.dims[o.dims.length - 1] ?? 1;
  return Array.from({ length: o.values.length / k }, (_, i) => o.values.subarray(i * k, (i + 1) * k));
}

export function Outputs({
  outputs,
  classes,
  label,
  routing,
  taskNames,
}: {
  outputs: readonly ColumnOutput[];
  classes: readonly string[] | undefined;
  label: number | undefined;
  routing: Routing | undefined;
  taskNames: readonly string[];
}) {
  const individual = outputs.find((o) => o.column === 'individual');
  return (
    <div data-testid="infer-outputs">
      {routing && (
        <p className="notice" data-testid="routing">
          Routed to <strong>{taskNames[routing.task]}</strong> (confidence{' '}
          {(routing.confidence * 100).toFixed(1)}
          %)
          {routing.runnerUp &&
            `; runner-up ${taskNames[routing.runnerUp.task]} (${(routing.runnerUp.confidence * 100).toFixed(1)} %)`}
          .
        </p>
      )}
      <div className="outputs">
        {outputs.map((o) => {
          const kind = outputKind(o);
          const top = kind === 'classes' ? topK(o.values, TOP, classes) : [];
          const differs =
            kind === 'classes' && individual && o !== individual && disagrees(o.values, individual.values);
          const first = top[0];
          return (
            <section
              key={o.column}
              className={`card output${differs ? ' differs' : ''}`}
              data-column={o.column}
            >
              <h4>{o.label}</h4>
              <p className="muted small">
                {o.provider} · {o.ms.toFixed(0)} ms
              </p>
              {kind === 'classes' && (
                <ol className="top-classes">
                  {top.map((c) => (
                    <li key={c.index} data-class={c.index}>
                      <span className="class-name">{c.name}</span>
                      <span className="bar" style={{ width: `${Math.round(c.probability * 100)}%` }} />
                      <span className="prob">{(c.probability * 100).toFixed(1)} %</span>
                    </li>
                  ))}
                </ol>
              )}
              {kind === 'batch' && (
                <ol className="batch-rows" data-testid="batch-rows">
                  {rowsOf(o)
                    .slice(0, MAX_ROWS)
                    .map((row, i) => {
                      const best = topK(row, 1, classes)[0];
                      return (
                        <li key={i}>
                          {best ? `${best.name} (${(best.probability * 100).toFixed(1)} %)` : '—'}
                        </li>
                      );
                    })}
                  {(o.dims[0] ?? 0) > MAX_ROWS && (
                    <li className="muted">… {(o.dims[0] ?? 0) - MAX_ROWS} more</li>
                  )}
                </ol>
              )}
              {kind === 'values' && (
                <p className="raw-values" data-testid="raw-values">
                  [{o.dims.join(', ')}]:{' '}
                  {[...o.values.slice(0, MAX_VALUES)].map((v) => v.toPrecision(4)).join(', ')}
                  {o.values.length > MAX_VALUES ? ', …' : ''}
                </p>
              )}
              {label !== undefined && first && (
                <p className={first.index === label ? 'right' : 'wrong'} data-testid="verdict">
                  {first.index === label ? '✓ right' : '✗ wrong'}
                </p>
              )}
              {differs && <p className="differs-note">differs from the individual model</p>}
            </section>
          );
        })}
      </div>
    </div>
  );
}
