// Step 6: take the result home — the bundle, any task's model in its own format, or all in a zip.
import { useStore } from 'zustand';
import { capabilities } from '../../platform/capabilities';
import { exportResult } from '../../state/actions';
import { exportsStore } from '../../state/exports';
import { mergeStore } from '../../state/merge';
import type { ExportWhat } from '../../worker/protocol';

function ExportButton({ what, label, keyName }: { what: ExportWhat; label: string; keyName: string }) {
  const busy = useStore(exportsStore, (s) => s.busy);
  const outcome = useStore(exportsStore, (s) => s.outcomes[keyName]);
  return (
    <li className="export-row">
      <button type="button" onClick={() => void exportResult(what)} disabled={busy !== undefined}>
        {label}
      </button>
      <span
        className={outcome && !outcome.ok ? 'error' : 'muted'}
        role={outcome && !outcome.ok ? 'alert' : undefined}
        data-testid={`export-${keyName}`}
      >
        {outcome?.message ?? ''}
      </span>
    </li>
  );
}

export function ExportPanel() {
  const result = useStore(mergeStore, (s) => s.result);
  const caps = capabilities();
  return (
    <section className="panel" aria-labelledby="export-title" id="export">
      <h2 id="export-title">
        <span className="step">6</span> Export
      </h2>
      {!result ? (
        <p className="muted">Nothing to export yet.</p>
      ) : (
        <>
          <p className="muted">
            {caps.saveFilePicker
              ? 'You pick where each file goes; it is written to disk as it is made.'
              : caps.opfs
                ? "Files are written to this browser's private storage as they are made, then downloaded (a sharded model as one .zip)."
                : 'Files download as they are made (a sharded model as one .zip).'}
          </p>
          <ul className="exports">
            {result.spec.method === 'emr' && (
              <ExportButton what={{ kind: 'bundle' }} label="EMR bundle" keyName="bundle" />
            )}
            {result.tasks.map((t, i) => (
              <ExportButton
                key={t.name}
                what={{ kind: 'task', task: i }}
                label={`${t.name} (.${t.format}${t.files > 1 ? `, ${t.files} shards` : ''})`}
                keyName={`task:${i}`}
              />
            ))}
            <ExportButton what={{ kind: 'zip' }} label="Everything as one .zip" keyName="zip" />
          </ul>
        </>
      )}
    </section>
  );
}
