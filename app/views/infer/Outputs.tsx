// One input's outputs side by side: a column per model (individual, each method), the top classes
// with their probabilities, and where a merged model's answer differs from the individual model's.
import { disagrees, topK } from '../../../src/inference/outputs';
import type { ColumnOutput, Routing } from '../../worker/protocol';

const TOP = 3;

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
          const top = topK(o.values, TOP, classes);
          const differs = individual && o !== individual && disagrees(o.values, individual.values);
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
              <ol className="top-classes">
                {top.map((c) => (
                  <li key={c.index} data-class={c.index}>
                    <span className="class-name">{c.name}</span>
                    <span className="bar" style={{ width: `${Math.round(c.probability * 100)}%` }} />
                    <span className="prob">{(c.probability * 100).toFixed(1)} %</span>
                  </li>
                ))}
              </ol>
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
