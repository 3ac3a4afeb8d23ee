// Finished EMR merges kept in this browser (origin-private file system), newest first: restore one
// with its base, or delete it. Nothing here leaves the machine either.
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { formatBytes } from '../../lib/format';
import { deleteRecent, recentStore, refreshRecent, restoreRecent } from '../../state/recent';
import { mergeStore } from '../../state/merge';

export function RecentMerges() {
  const { merges, message } = useStore(recentStore);
  const running = useStore(mergeStore, (s) => s.running);
  const resultId = useStore(mergeStore, (s) => s.result?.id);
  useEffect(() => {
    void refreshRecent();
  }, [resultId]);
  if (!merges.length && !message) return null;
  return (
    <details className="recent-merges" data-testid="recent-merges">
      <summary>
        Recent merges <span className="muted">({merges.length}, kept in this browser)</span>
      </summary>
      <ul>
        {merges.map((m) => (
          <li key={m.id} data-recent={m.id}>
            <span>
              {m.savedAt.slice(0, 16).replace('T', ' ')} · {m.method} · {m.tasks.length} tasks (
              {m.tasks.join(', ')}) · base {m.base.file} · bundle {formatBytes(m.bundleBytes)}
            </span>{' '}
            <button type="button" disabled={running} onClick={() => void restoreRecent(m)}>
              Restore
            </button>{' '}
            <button
              type="button"
              onClick={() => void deleteRecent(m.id)}
              aria-label={`Delete the merge of ${m.savedAt}`}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      {message && (
        <p className={message.ok ? 'muted' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </details>
  );
}
