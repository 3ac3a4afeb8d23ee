// What will be merged and what will not, and why — from headers, before any weight is read.
import { useStore } from 'zustand';
import { filesStore } from '../../state/files';
import { formatCount, shapeText } from '../../lib/format';
import type { LeftOutReason } from '../../../src/merge/model-set';

const REASONS: Record<LeftOutReason, string> = {
  'missing-in-base': 'not in the base (a task’s own head): carried through unchanged',
  'missing-in-task': 'missing from some tasks: carried through by those that have it',
  'shape-mismatch': 'shapes differ (e.g. heads with other classes): carried through',
  'non-float': 'not a float tensor: carried through',
};

export function AlignmentReport() {
  const alignment = useStore(filesStore, (s) => s.alignment);
  const hasBase = useStore(filesStore, (s) =>
    s.checkpoints.some((c) => c.role === 'base' && c.status === 'ready'),
  );
  const any = useStore(filesStore, (s) => s.checkpoints.length > 0);
  const tasks = useStore(
    filesStore,
    (s) => s.checkpoints.filter((c) => c.role === 'task' && c.status === 'ready').length,
  );
  const bundle = useStore(filesStore, (s) => s.checkpoints.some((c) => c.role === 'bundle'));
  if (!any) return null;
  if (!hasBase)
    return (
      <p className="hint" data-testid="alignment">
        No file looks like the base model by its name. Pick one: set its role to <em>Base model</em>.
      </p>
    );
  if (tasks === 0)
    return (
      <p className="hint" data-testid="alignment">
        {bundle
          ? 'Open the bundle to restore its merge, or add two or more fine-tuned task models to merge anew.'
          : 'Add two or more fine-tuned task models to merge.'}
      </p>
    );
  if (!alignment) return null;
  if (!alignment.ok)
    return (
      <p className="error" role="alert" data-testid="alignment">
        {alignment.message}
      </p>
    );
  const { report } = alignment;
  const byReason = new Map<LeftOutReason, typeof report.leftOut>();
  for (const l of report.leftOut) byReason.set(l.reason, [...(byReason.get(l.reason) ?? []), l]);
  return (
    <section className="card alignment" data-testid="alignment" aria-label="Alignment report">
      <h3>Alignment</h3>
      {tasks === 1 && (
        <p className="hint" data-testid="one-task">
          One task model: SLERP (and Multi-SLERP) merge the base and it; the other methods need one more.
        </p>
      )}
      <ul className="summary-list">
        <li>
          <strong data-testid="shared-count">{report.shared.length}</strong> shared tensors (
          {formatCount(report.sharedParameters)} parameters) are merged.
        </li>
        <li>
          <strong>{report.leftOut.length}</strong> task-specific tensors pass through unchanged.
        </li>
        <li>
          <strong>{report.baseOnly.length}</strong> tensors are only in the base and in no task model.
        </li>
      </ul>
      <details>
        <summary>Shared tensors</summary>
        <ul className="tensor-list">
          {report.shared.map((s) => (
            <li key={s.name}>
              <code>{s.name}</code> {shapeText(s.shape)}{' '}
              <span className="muted">{[...new Set(s.dtypes)].join('/')}</span>
            </li>
          ))}
        </ul>
      </details>
      {[...byReason].map(([reason, list]) => (
        <details key={reason}>
          <summary>
            {list.length} {REASONS[reason]}
          </summary>
          <ul className="tensor-list">
            {list.map((l) => (
              <li key={l.name}>
                <code>{l.name}</code> <span className="muted">{l.detail}</span>
              </li>
            ))}
          </ul>
        </details>
      ))}
      {report.baseOnly.length > 0 && (
        <details>
          <summary>{report.baseOnly.length} only in the base (e.g. a pre-training head): left out</summary>
          <ul className="tensor-list">
            {report.baseOnly.map((n) => (
              <li key={n}>
                <code>{n}</code>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
