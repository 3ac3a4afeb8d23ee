// NaN/±∞ in the weights the merge read: one warning line, and where they are (models and tensors
// with any; the rest are left out). Shown only when there were some.
import type { MergeSummary } from '../../worker/protocol';

export function NonFinite({ result }: { result: MergeSummary }) {
  const r = result.nonFinite;
  if (!r) return null;
  const models = [
    { name: 'base', count: r.base, of: (t: (typeof r.tensors)[number]) => t.base },
    ...result.tasks.map((task, i) => ({
      name: task.name,
      count: r.tasks[i] ?? 0,
      of: (t: (typeof r.tensors)[number]) => t.tasks[i] ?? 0,
    })),
  ].filter((m) => m.count > 0);
  return (
    <div className="notice" role="alert" data-testid="non-finite">
      <p>{r.warning}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">tensor</th>
            {models.map((m) => (
              <th scope="col" key={m.name}>
                {m.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {r.tensors.map((t) => (
            <tr key={t.name}>
              <th scope="row">{t.name}</th>
              {models.map((m) => (
                <td key={m.name}>{m.of(t) ? m.of(t).toLocaleString('en') : ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
