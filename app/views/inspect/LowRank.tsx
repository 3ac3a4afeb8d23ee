// TSV-C's inspection (issue #20): per 2-D weight, how many singular components each task keeps of
// the full rank, and the share of its task vector's energy (Σσ²) they hold — the lowest, mean and
// highest over the tasks. The other tensors keep each task's own τ whole (docs/merge.md#tsv-c).
import type { MergeSummary } from '../../worker/protocol';
import { percent, shapeText } from '../../lib/format';

export function LowRank({ result }: { result: MergeSummary }) {
  const rows = result.tensors.filter((t) => t.lowRank);
  if (rows.length === 0) return null;
  const whole = result.tensors.length - rows.length;
  return (
    <section className="card" aria-labelledby="lowrank-title">
      <h3 id="lowrank-title">Rank and energy kept per layer</h3>
      <p className="muted">
        Each task keeps the top singular components of its task vector in every 2-D weight; the {whole} other
        tensor{whole === 1 ? '' : 's'} keep each task’s own task vector whole. Energy is the share of Σσ² the
        kept components hold{rows.some((t) => !t.lowRank?.energy) ? ' (not stored in an artefact)' : ''}.
      </p>
      <table className="numbers" data-testid="lowrank">
        <thead>
          <tr>
            <th scope="col">Tensor</th>
            <th scope="col">Shape</th>
            <th scope="col">Rank kept</th>
            <th scope="col">Energy: lowest</th>
            <th scope="col">mean</th>
            <th scope="col">highest</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => {
            const lr = t.lowRank as NonNullable<typeof t.lowRank>;
            const e = lr.energy ?? [];
            const cell = (x: number | undefined) =>
              x === undefined || !Number.isFinite(x) ? '—' : percent(x);
            return (
              <tr key={t.name} data-rank={lr.rank}>
                <th scope="row">{t.name}</th>
                <td>{shapeText(t.shape)}</td>
                <td>
                  {lr.rank} of {Math.min(...t.shape)}
                </td>
                <td>{cell(e.length ? Math.min(...e) : undefined)}</td>
                <td>{cell(e.length ? e.reduce((a, x) => a + x, 0) / e.length : undefined)}</td>
                <td>{cell(e.length ? Math.max(...e) : undefined)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
