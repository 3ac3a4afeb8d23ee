// λ_t per task, with the two sums it is the ratio of (a sum of per-tensor means:
// docs/architecture.md#emr-semantics).
import type { MergeSummary } from '../../worker/protocol';
import { percent } from '../../lib/format';
import { describeMethod } from '../../../src/merge/methods';

const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(6) : '—');

export function Rescalers({ result }: { result: MergeSummary }) {
  const emr = result.spec.method === 'emr';
  // A per-task method (TALL masks, Consensus, T-Switch): each task's λₜ where it has one, and the
  // share of the shared weights its mask keeps.
  const perTask = result.tasks.some((t) => t.perTask !== undefined);
  const hasLambda = result.tasks.some((t) => t.perTask?.lambda !== undefined);
  // TSV-C keeps low-rank factors, not a mask: its "density" is the values it stores per task.
  const lowRank = result.spec.method === 'tsv_c';
  const fromBundle = result.source === 'bundle';
  return (
    <section className="card" aria-labelledby="rescalers-title">
      <h3 id="rescalers-title">{emr ? 'Rescalers λₜ' : 'Tasks'}</h3>
      {perTask && (
        <p className="muted">
          {describeMethod(result.spec)}: per task,{' '}
          {lowRank
            ? 'the values it stores (factors and own task vectors) over the shared weights'
            : result.spec.method === 't_switch'
              ? 'the share of the shared weights its keep bits keep'
              : 'the share of the shared weights its mask keeps'}
          {hasLambda ? ' and its λₜ' : ''}.
        </p>
      )}
      {emr && (
        <p className="muted">
          λₜ = Σ mean|τₜ| ⁄ Σ mean|Mₜ ⊙ τ_uni| over the shared tensors
          {result.spec.method === 'emr' && result.spec.rescale === 'global' ? ' (here: global sums)' : ''}.
          {fromBundle ? ' A bundle stores λₜ but not its sums.' : ''}
        </p>
      )}
      <div className="table-scroll">
        <table className="numbers" data-testid="rescalers">
          <thead>
            <tr>
              <th scope="col">Task</th>
              {emr && <th scope="col">λₜ</th>}
              {emr && <th scope="col">Σ mean|τₜ|</th>}
              {emr && <th scope="col">Σ mean|Mₜ⊙τ_uni|</th>}
              {emr && <th scope="col">Mask density</th>}
              {hasLambda && <th scope="col">λₜ</th>}
              {perTask && <th scope="col">{lowRank ? 'Stored' : 'Mask density'}</th>}
              <th scope="col">Format</th>
            </tr>
          </thead>
          <tbody>
            {result.tasks.map((t) => (
              <tr
                key={t.name}
                data-task={t.name}
                // a baseline has no λₜ (NaN): no attribute rather than data-lambda="NaN"
                {...(Number.isFinite(t.lambda) ? { 'data-lambda': t.lambda } : {})}
              >
                <th scope="row">{t.name}</th>
                {emr && (
                  <td>
                    {t.lambda.toFixed(4)}
                    {t.lambdaDefaulted && (
                      <span className="badge" title="No mask bit was on: λ was set to 1">
                        default
                      </span>
                    )}
                  </td>
                )}
                {emr && <td>{num(t.numerator)}</td>}
                {emr && <td>{num(t.denominator)}</td>}
                {emr && <td>{Number.isFinite(t.density) ? percent(t.density) : '—'}</td>}
                {hasLambda && <td>{t.perTask?.lambda ?? '—'}</td>}
                {perTask && (
                  <td data-density={t.perTask?.density}>{t.perTask ? percent(t.perTask.density) : '—'}</td>
                )}
                <td>{t.format}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
