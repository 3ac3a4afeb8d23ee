// "Add from Hugging Face…": a repo by name (org/name[@rev][/folder]) or a URL of a file on any
// server, as the base or a task. Only its headers are read (in the studio worker); the token for a
// gated repo lives in this dialog's memory while it is open, and goes to the Hub's origin only.
import { useId, useState } from 'react';
import { useStore } from 'zustand';
import { addRemote } from '../../state/remote-actions';
import { remoteStore } from '../../state/remote';
import { formatBytes } from '../../lib/format';

export function AddRemoteButton({ disabled }: { disabled: boolean }) {
  const open = useStore(remoteStore, (s) => s.dialogOpen);
  return (
    <button
      type="button"
      onClick={() => remoteStore.setState({ dialogOpen: true })}
      disabled={disabled || open}
    >
      Add from Hugging Face…
    </button>
  );
}

/** The dialog, under the row of buttons while it is open. */
export function AddRemote() {
  const open = useStore(remoteStore, (s) => s.dialogOpen);
  return open ? <AddRemoteDialog onClose={() => remoteStore.setState({ dialogOpen: false })} /> : null;
}

function AddRemoteDialog({ onClose }: { onClose: () => void }) {
  const titleId = useId();
  const [text, setText] = useState('');
  const [token, setToken] = useState('');
  const [role, setRole] = useState<'base' | 'task'>('task');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const endpoint = useStore(remoteStore, (s) => s.endpoint);
  const fileOrigins = useStore(remoteStore, (s) => s.fileOrigins);
  const add = async () => {
    setBusy(true);
    setError(undefined);
    const outcome = await addRemote({ text, role, ...(token ? { token } : {}) });
    setBusy(false);
    if (outcome.ok) setText('');
    else setError(outcome.message);
  };
  return (
    <form
      className="card add-remote"
      role="dialog"
      aria-labelledby={titleId}
      data-testid="add-remote"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <h3 id={titleId}>Add from Hugging Face</h3>
      <label>
        Repository or address
        <input
          type="text"
          value={text}
          spellCheck={false}
          placeholder="org/name, org/name@revision/folder, or https://…"
          onChange={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <fieldset>
        <legend>Use it as</legend>
        <label>
          <input type="radio" name="remote-role" checked={role === 'base'} onChange={() => setRole('base')} />
          Base model
        </label>
        <label>
          <input type="radio" name="remote-role" checked={role === 'task'} onChange={() => setRole('task')} />
          Task
        </label>
      </fieldset>
      <label>
        Access token (gated or private repos; kept in memory only)
        {/* Not type="password": a password field invites the browser to offer to save it. */}
        <input
          type="text"
          className="secret"
          value={token}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setToken(e.currentTarget.value)}
        />
      </label>
      <details>
        <summary>Hub server</summary>
        <label>
          Hub address
          <input
            type="text"
            inputMode="url"
            value={endpoint}
            spellCheck={false}
            onChange={(e) => remoteStore.setState({ endpoint: e.currentTarget.value })}
          />
        </label>
        <label>
          Its file servers (the origins it redirects downloads to, separated by spaces)
          <input
            type="text"
            value={fileOrigins.join(' ')}
            spellCheck={false}
            onChange={(e) =>
              remoteStore.setState({ fileOrigins: e.currentTarget.value.split(/\s+/).filter(Boolean) })
            }
          />
        </label>
      </details>
      <p className="muted">
        Only the files&apos; headers are read now (a few kB each); tensors are fetched by range when you
        merge. Nothing is sent but GET requests.
      </p>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !text.trim()}>
          {busy ? 'Reading headers…' : 'Add'}
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="add-remote-error">
          {error}
        </p>
      )}
    </form>
  );
}

/** The origins this page's worker talks to besides the page's own (none until a URL is added). */
export function RemoteOrigins() {
  const origins = useStore(remoteStore, (s) => s.origins);
  if (origins.length === 0) return null;
  return (
    <details className="remote-origins" data-testid="remote-origins">
      <summary>
        Talks to {origins.length} {origins.length === 1 ? 'origin' : 'origins'} besides this page (you added
        them)
      </summary>
      <ul>
        {origins.map((o) => (
          <li key={o.origin}>
            <code>{o.origin}</code> <span className="muted">— {o.why}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** A remote card's bytes fetched so far, against its files' size. */
export function RemoteFetched({ id, size }: { id: string; size: number }) {
  const fetched = useStore(remoteStore, (s) => s.fetched[id]);
  if (fetched === undefined) return null;
  return (
    <p className="muted" data-testid="remote-fetched" data-fetched={fetched} data-size={size}>
      Remote · fetched {formatBytes(fetched)} of {formatBytes(size)}
    </p>
  );
}
