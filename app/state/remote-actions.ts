// "Add from Hugging Face…": a repo by name or a URL becomes an ordinary card. The page only
// admits the origins it needs (the studio worker is restarted under a policy that lets it fetch
// from them: app/worker/client.ts, scripts/csp.ts) and asks the worker to open it; the worker
// fetches the headers (app/worker/remote.ts). Nothing here fetches anything.
import { studioWorker, admitOrigins } from '../worker/client';
import { realign } from './actions';
import { filesStore, newCheckpointId, withAdded, withOpened, withRole } from './files';
import { mergeStore } from './merge';
import { originsFor, remoteStore, withOrigins } from './remote';

export interface AddRemoteRequest {
  readonly text: string;
  /** Kept in memory only, sent only to the Hub's origin, never logged. */
  readonly token?: string;
  readonly role: 'base' | 'task';
}

export type AddRemoteOutcome = { readonly ok: true } | { readonly ok: false; readonly message: string };

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Admits what `text` needs, opens it in the worker (headers only) and adds its card. */
export async function addRemote(request: AddRemoteRequest): Promise<AddRemoteOutcome> {
  const text = request.text.trim();
  if (!text) return { ok: false, message: 'Give a repository (org/name) or an address.' };
  let needed;
  try {
    needed = originsFor(text, remoteStore.getState());
  } catch (e) {
    return { ok: false, message: message(e) };
  }
  remoteStore.setState((s) => withOrigins(s, needed));
  admitOrigins(remoteStore.getState().origins.map((o) => o.origin));
  const { endpoint } = remoteStore.getState();
  const id = newCheckpointId();
  const worker = studioWorker();
  const outcome = await worker
    .openRemote(id, { text, endpoint, ...(request.token ? { token: request.token } : {}) })
    .catch((e: unknown) => ({ ok: false as const, message: message(e) }));
  if (!outcome.ok) {
    await worker.forget(id).catch(() => {});
    return { ok: false, message: outcome.message };
  }
  const { about, summary } = outcome;
  filesStore.setState((s) => {
    // Added as a task under the repo's name (never guessed from it); made the base if asked.
    const added = withAdded(s, [{ id, paths: [about.label], ...fingerprintOf(about.fingerprint) }], [], {
      baseLabel: '',
      taskNames: new Map([[about.label, about.name]]),
    });
    const opened = withOpened({ ...added, origin: 'user' }, id, { ok: true, summary });
    const card = opened.checkpoints.find((c) => c.id === id);
    return request.role === 'base' && !card?.duplicateOf ? withRole(opened, id, 'base') : opened;
  });
  if (filesStore.getState().checkpoints.find((c) => c.id === id)?.duplicateOf)
    await worker.forget(id).catch(() => {});
  remoteStore.setState((s) => ({ fetched: { ...s.fetched, [id]: about.fetched } }));
  await worker.setOrigin('user');
  await realign();
  return { ok: true };
}

const fingerprintOf = (f: string | undefined) => (f === undefined ? {} : { fingerprint: f });

/** Bytes fetched by every remote card so far, from the worker. */
export async function refreshFetched(): Promise<void> {
  if (Object.keys(remoteStore.getState().fetched).length === 0) return;
  const fetched = await studioWorker()
    .remoteFetched()
    .catch(() => undefined);
  // A worker restarted since counts from zero: a count never goes down on a card.
  if (fetched)
    remoteStore.setState((s) => ({
      fetched: Object.fromEntries(
        Object.entries(s.fetched).map(([id, n]) => [id, Math.max(n, fetched[id] ?? 0)]),
      ),
    }));
}

// When a merge ends, the cards show what it fetched (tensor bytes, read by range).
mergeStore.subscribe((now, before) => {
  if (before.running && !now.running) void refreshFetched();
});
