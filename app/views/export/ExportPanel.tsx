// Step 6: take the result home — the bundle, any task's model in its own format, or all in a zip.
// Each row says what it is, the file it makes and about how large it is.
import { useStore } from 'zustand';
import { describeMethod } from '../../../src/merge/methods';
import { capabilities } from '../../platform/capabilities';
import { exportName, exportResult } from '../../state/actions';
import { exportsStore } from '../../state/exports';
import { mergeStore } from '../../state/merge';
import { formatBytes } from '../../lib/format';
import type { ExportWhat } from '../../worker/protocol';

function ExportButton({
  what,
  label,
  keyName,
  bytes,
  note,
}: {
  what: ExportWhat;
  label: string;
  keyName: string;
  /** The weights it holds (headers and graphs come on top; a zip may compress them). */
  bytes: number;
  note?: string;
}) {
  const busy = useStore(exportsStore, (s) => s.busy);
  const outcome = useStore(exportsStore, (s) => s.outcomes[keyName]);
  return (
    <li className="export-row" data-testid="export-item" data-export={keyName}>
      <button type="button" onClick={() => void exportResult(what)} disabled={busy !== undefined}>
        <span className="export-label">{label}</span>
        <span className="export-file" title={exportName(what)}>
          {exportName(what)}
        </span>
        <span className="export-size" data-testid="export-size">
          {note ?? '≈'} {formatBytes(bytes)}
        </span>
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
  const emr = result?.spec.method === 'emr';
  // EMR's bundle, or a per-task method's artefact (0 bytes: a method that made one model).
  const bundleBytes = result?.storage.bundleBytes ?? 0;
  const allBytes = (result?.tasks ?? []).reduce((a, t) => a + t.bytes, bundleBytes);
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
                ? "Files are written to this browser's private storage as they are made, then downloaded (a sharded model or a Hugging Face folder as one .zip)."
                : 'Files download as they are made (a sharded model or a Hugging Face folder as one .zip).'}
          </p>
          <ul className="exports">
            {bundleBytes > 0 && (
              <ExportButton
                what={{ kind: 'bundle' }}
                label={emr ? 'EMR bundle' : `${describeMethod(result.spec)} artefact`}
                keyName="bundle"
                bytes={bundleBytes}
              />
            )}
            {result.tasks.map((t, i) => (
              <ExportButton
                key={t.name}
                what={{ kind: 'task', task: i }}
                label={`${t.name} (${t.format}${t.files > 1 ? `, ${t.files} shards` : ''}${t.fromPytorch ? ', written as safetensors' : ''}${t.folder ? ', a Hugging Face folder with its config and model card' : ''})`}
                keyName={`task:${i}`}
                bytes={t.bytes}
              />
            ))}
            <ExportButton
              what={{ kind: 'zip' }}
              label={
                result.spec.method === 'mergekit'
                  ? 'Everything as one .zip (with the recipe, mergekit_config.yml)'
                  : 'Everything as one .zip'
              }
              keyName="zip"
              bytes={allBytes}
              note="≤"
            />
          </ul>
        </>
      )}
    </section>
  );
}
