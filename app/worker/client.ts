// The page's handle on the studio worker, started on first use — and started again if it dies.
// A dead worker never answers, so the page holds a life line to it: the worker takes a Web Lock
// of a name only the two know, and the page waits for that lock, which the browser grants the
// moment the worker is gone (terminated, closed, crashed). Calls still waiting then fail with a
// StudioWorkerDiedError, the page keeps what it shows, and the next call starts a fresh worker,
// in which the files of the lost one are opened again (and the settings set again) before it.
import { wrap, type Remote } from 'comlink';
import type { StudioService } from './service';

export class StudioWorkerDiedError extends Error {
  override readonly name = 'StudioWorkerDiedError';
}

/** Messages of the life line and the test hook, beside comlink's (which ignores them). */
export interface LifeLineMessage {
  readonly studioLifeLine?: string;
  readonly studioLifeLineHeld?: string;
  readonly studioTestClose?: true;
}

/** Calls that set up the worker's state: replayed, in order, in a fresh worker. */
const SETTINGS = new Set(['setOrigin', 'setBudget', 'setSpillOver', 'setShardBytes']);

interface Life {
  readonly worker: Worker;
  readonly remote: Remote<StudioService>;
  readonly waiting: Set<(e: Error) => void>;
  /** Done when the files and settings of a previous worker are in this one. */
  readonly restored: Promise<void>;
  dead?: StudioWorkerDiedError;
}

let life: Life | undefined;
/** Files opened (by checkpoint id, in order) and the last value of each setting. */
const opened = new Map<string, unknown[]>();
const settings = new Map<string, unknown[]>();
const listeners = new Set<(e: StudioWorkerDiedError) => void>();

/** Tells `listener` when the studio worker dies; returns the unsubscribe. */
export function onStudioWorkerDied(listener: (e: StudioWorkerDiedError) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function died(l: Life, why: string): void {
  if (l.dead) return;
  l.dead = new StudioWorkerDiedError(
    `The studio's worker stopped (${why}). What is on screen is kept; your files are opened again in a new worker when you retry.`,
  );
  for (const reject of l.waiting) reject(l.dead);
  l.waiting.clear();
  if (life === l) life = undefined;
  l.worker.terminate();
  for (const listener of listeners) listener(l.dead);
}

function start(): Life {
  const worker = new Worker(new URL('./studio.worker.ts', import.meta.url), {
    type: 'module',
    name: 'studio',
  });
  const remote = wrap<StudioService>(worker);
  const replay = [...settings.entries(), ...[...opened.values()].map((args) => ['open', args] as const)];
  const l: Life = {
    worker,
    remote,
    waiting: new Set(),
    restored: (async () => {
      for (const [method, args] of replay)
        await (remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]?.(...args);
    })(),
  };
  l.restored.catch(() => {}); // surfaced by the first call
  const locks = globalThis.navigator?.locks;
  const name = `merge-studio/studio-worker/${crypto.randomUUID()}`;
  let held = false;
  worker.addEventListener('message', (event: MessageEvent<LifeLineMessage>) => {
    if (event.data?.studioLifeLineHeld !== name || !locks) return;
    held = true;
    // Granted only once the worker's own request on this name is released: when it is gone.
    void locks.request(name, () => died(l, 'it was closed or crashed'));
  });
  // Before the life line is held, an error event means the worker could not start at all.
  worker.addEventListener('error', (event) => {
    if (!held) died(l, event.message || 'it could not start');
  });
  if (locks) worker.postMessage({ studioLifeLine: name } satisfies LifeLineMessage);
  return l;
}

/** The call, failing at once with StudioWorkerDiedError if the worker dies before it answers. */
function call(l: Life, method: string, args: unknown[]): Promise<unknown> {
  if (l.dead) return Promise.reject(l.dead);
  if (method === 'open') opened.set(args[0] as string, args);
  else if (method === 'forget') opened.delete(args[0] as string);
  else if (SETTINGS.has(method)) settings.set(method, args);
  return new Promise((resolve, reject) => {
    l.waiting.add(reject);
    l.restored
      .then(() =>
        (l.remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]?.(...args),
      )
      .then(resolve, reject)
      .finally(() => l.waiting.delete(reject));
  });
}

/** The studio worker's service; every call goes to the live worker, started (again) as needed. */
export function studioWorker(): Remote<StudioService> {
  return new Proxy({} as Remote<StudioService>, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (...args: unknown[]) => {
        life ??= start();
        return call(life, prop, args);
      };
    },
  });
}

/**
 * Test hook: the studio worker dies now — `terminate` from the page, or `close` from inside the
 * worker (the page then learns it only through the life line, as after a crash).
 */
export function killStudioWorker(how: 'terminate' | 'close'): void {
  const l = life;
  if (!l) return;
  if (how === 'terminate') died(l, 'test: terminated');
  else l.worker.postMessage({ studioTestClose: true } satisfies LifeLineMessage);
}
