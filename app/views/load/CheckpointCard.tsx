// One checkpoint: what its headers say, its role and task name, and why it was refused if it was.
import { useStore } from 'zustand';
import { openBundle, removeCheckpoint, setRole, setTaskName } from '../../state/actions';
import { filesStore, type FileRole, type LoadedCheckpoint } from '../../state/files';
import { mergeStore } from '../../state/merge';
import { cardTitle } from '../../load/card-title';
import { formatBytes, formatCount } from '../../lib/format';
import { RemoteFetched } from './AddRemote';

export function CheckpointCard({ c, nameProblem }: { c: LoadedCheckpoint; nameProblem: string | undefined }) {
  const refused = useStore(filesStore, (s) => s.alignment?.refused.find((r) => r.id === c.id));
  const running = useStore(mergeStore, (s) => s.running);
  const name = cardTitle(c.label);
  const s = c.summary;
  return (
    <li
      className={`card checkpoint role-${c.role} status-${c.status}`}
      data-testid="checkpoint"
      data-name={name}
    >
      <div className="checkpoint-head">
        <span className="file-name" title={c.paths.join('\n')}>
          {name}
        </span>
        {c.paths.length > 1 && <span className="badge">+{c.paths.length - 1} files</span>}
        {s && <span className="badge">{s.format}</span>}
        <button
          type="button"
          className="icon"
          aria-label={`Remove ${name}`}
          onClick={() => void removeCheckpoint(c.id)}
        >
          ×
        </button>
      </div>
      {c.status === 'opening' && <p className="muted">Reading headers…</p>}
      {c.note && (
        <p className="notice" data-testid="file-note">
          {c.note}
        </p>
      )}
      {c.status === 'error' && (
        <p className="error" role="alert" data-testid="file-error">
          Refused: {c.error}
        </p>
      )}
      {s && (
        <p className="facts">
          {s.tensorCount} tensors · {formatCount(s.parameters)} parameters ·{' '}
          {Object.entries(s.dtypes)
            .map(([d, n]) => `${d}${Object.keys(s.dtypes).length > 1 ? ` ×${n}` : ''}`)
            .join(', ')}{' '}
          · {formatBytes(s.bytes)}
          {s.peft && (
            <span className="badge" data-testid="peft-badge">
              {s.peft.type === 'LORA'
                ? `LoRA adapter · r = ${s.peft.r} · α = ${s.peft.alpha}`
                : '(IA)³ adapter'}
            </span>
          )}
        </p>
      )}
      {s && <RemoteFetched id={c.id} size={s.bytes} />}
      {c.status === 'ready' && (
        <div className="checkpoint-controls">
          <select
            aria-label={`Role of ${name}`}
            value={c.role}
            onChange={(e) => void setRole(c.id, e.currentTarget.value as FileRole)}
          >
            {s?.isBundle ? <option value="bundle">EMR bundle</option> : null}
            <option value="base">Base model</option>
            <option value="task">Task</option>
            <option value="ignore">Ignore</option>
          </select>
          {c.role === 'task' && (
            <input
              type="text"
              aria-label={`Task name of ${name}`}
              value={c.taskName}
              spellCheck={false}
              onChange={(e) => void setTaskName(c.id, e.currentTarget.value)}
              aria-invalid={nameProblem ? true : undefined}
            />
          )}
          {c.role === 'bundle' && (
            <button type="button" onClick={() => void openBundle(c.id)} disabled={running}>
              Open bundle
            </button>
          )}
        </div>
      )}
      {nameProblem && <p className="error">{nameProblem}</p>}
      {refused && c.role === 'task' && (
        <div className="error" role="alert" data-testid="file-refused">
          <p>Refused: {refused.message}</p>
          <ul className="differing">
            {refused.differing.slice(0, 6).map((d) => (
              <li key={d}>
                <code>{d}</code>
              </li>
            ))}
            {refused.differing.length > 6 && <li>… and {refused.differing.length - 6} more</li>}
          </ul>
        </div>
      )}
    </li>
  );
}
