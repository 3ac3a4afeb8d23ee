// The storage claim: N full models against the base plus one bundle (EMR's, or a per-task
// method's artefact), and what that is per task.
import type { MergeSummary } from '../../worker/protocol';
import { formatBytes } from '../../lib/format';

export function Storage({ result }: { result: MergeSummary }) {
  const { taskModelsBytes, baseBytes, bundleBytes } = result.storage;
  const emr = result.spec.method === 'emr';
  const what = emr ? 'EMR bundle' : 'artefact';
  const ours = baseBytes + bundleBytes;
  const ratio = ours > 0 ? taskModelsBytes / ours : 0;
  const max = Math.max(taskModelsBytes, ours, 1);
  return (
    <section className="card" aria-labelledby="storage-title" data-testid="storage">
      <h3 id="storage-title">Storage</h3>
      <div className="bars">
        <div className="bar-row">
          <span>{result.tasks.length} full models</span>
          <div className="bar" style={{ width: `${(taskModelsBytes / max) * 100}%` }} />
          <span className="bar-value">{formatBytes(taskModelsBytes)}</span>
        </div>
        <div className="bar-row">
          <span>base + {what}</span>
          <div className="bar ours" style={{ width: `${(ours / max) * 100}%` }} />
          <span className="bar-value">{formatBytes(ours)}</span>
        </div>
      </div>
      {result.storage.adapterBytes !== undefined && (
        <p className="muted" data-testid="adapter-storage">
          The {result.tasks.length} adapters themselves: {formatBytes(result.storage.adapterBytes)} (the
          bundle is {(bundleBytes / Math.max(1, result.storage.adapterBytes)).toFixed(1)}× their size: it
          holds the merged full-size weights, not low-rank factors).
        </p>
      )}
      {emr ? (
        <p>
          <strong>{ratio.toFixed(1)}×</strong> smaller. The bundle holds τ_uni (4 bytes per shared parameter),{' '}
          {result.tasks.length} one-bit masks, {result.tasks.length} scalars and the task heads:{' '}
          {formatBytes(bundleBytes)}.
        </p>
      ) : (
        <p>
          <strong>{ratio.toFixed(1)}×</strong> smaller. The artefact holds the shared part once and each
          task’s own part (docs/bundle-format.md): {formatBytes(bundleBytes)}.
        </p>
      )}
      <p data-testid="bytes-per-task">
        Per task: <strong>{formatBytes(bundleBytes / Math.max(1, result.tasks.length))}</strong> of {what}{' '}
        (each task’s full model: {formatBytes(taskModelsBytes / Math.max(1, result.tasks.length))}).
      </p>
    </section>
  );
}
