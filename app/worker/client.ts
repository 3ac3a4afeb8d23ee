// The page's handle on the studio worker, started on first use — and started again if it dies.
// A dead worker never answers, so the page holds a life line to it: the worker takes a Web Lock
// of a name only the two know, and the page waits for that lock, which the browser grants the
// moment the worker is gone (terminated, closed, crashed). Calls still waiting then fail with a
// StudioWorkerDiedError, the page keeps what it shows, and the next call starts a fresh worker,
// in which the files of the lost one are opened again (the settings set again, the graphs and
// labeled sets attached again) before it — and, for a call that needs the result on screen (an
// export, the Inspect views, inference, evaluation), that result is made again: the last
// successful merge run again (the same bits) or its bundle opened again.
import { proxy, wrap, type Remote } from 'comlink';
import type { StudioService } from './service';
import studioWorkerUrl from './studio.worker.ts?worker&url';

export class StudioWorkerDiedError extends Error {
  override readonly name = 'StudioWorkerDiedError';
}

/** Messages of the life line and the test hook, beside comlink's (which ignores them). */
export interface LifeLineMessage {
  readonly studioLifeLine?: string;
  readonly studioLifeLineHeld?: string;
  readonly studioTestClose?: true;
}

/**
 * Calls that set up the worker's state, replayed in a fresh worker in the order last made, keyed
 * by what they set: a setting, an open file, a task's graph, labeled set or text images, the tokenizer.
 */
const SETUP: Record<string, (args: readonly unknown[]) => string> = {
  setOrigin: () => 'origin',
  setBudget: () => 'budget',
  setSpillOver: () => 'spill',
  setShardBytes: () => 'shards',
  open: (a) => `open:${String(a[0])}`,
  openRemote: (a) => `open:${String(a[0])}`,
  attachGraph: (a) => `graph:${String(a[1])}`,
  attachLabeled: (a) => `labeled:${String(a[1])}`,
  attachLabeledSet: (a) => `labeled:${String(a[0])}`,
  attachLabeledText: (a) => `labeled:${String(a[0])}`,
  attachTextImages: (a) => `images:${String(a[0])}`,
  attachTokenizer: () => 'tokenizer',
};
/** Calls that make the result on screen: the last successful one is made again when needed. */
const MAKES_RESULT = new Set(['merge', 'openBundle']);
/** Calls that neither need the result on screen nor change it. */
const WITHOUT_RESULT = new Set([
  ...Object.keys(SETUP),
  'forget',
  'clearAll',
  'align',
  'cancel',
  'cancelEvaluate',
  'recentMerges',
  'recentBundle',
  'removeRecent',
  'remoteFetched',
]);

type Call = readonly [method: string, args: readonly unknown[]];
const invoke = (remote: Remote<StudioService>, [method, args]: Call): Promise<unknown> =>
  (remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);

interface Life {
  readonly worker: Worker;
  readonly remote: Remote<StudioService>;
  readonly waiting: Set<(e: Error) => void>;
  /** Done when the files, settings and attachments of the previous worker are in this one. */
  readonly restored: Promise<void>;
  /** The previous worker's result, being made again in this one. */
  result?: Promise<void>;
  /**
   * A merge (or bundle) the user asked for in this worker, while it runs: calls that need a result
   * wait for it rather than make the old one again — a second merge in the worker would cancel it.
   */
  making?: Promise<unknown> | undefined;
  /** Whether this worker holds the result on screen (its own, or the previous one made again). */
  hasResult: boolean;
  dead?: StudioWorkerDiedError;
}

let life: Life | undefined;
/** The setup calls by what they set, in the order last made; the call that made the result. */
const setup = new Map<string, Call>();
let resultCall: Call | undefined;

function died(l: Life, why: string): void {
  if (l.dead) return;
  l.dead = new StudioWorkerDiedError(
    `The studio's worker stopped (${why}). What is on screen is kept; your files are opened again in a new worker when you retry.`,
  );
  for (const reject of l.waiting) reject(l.dead);
  l.waiting.clear();
  if (life === l) life = undefined;
  l.worker.terminate();
}

/**
 * The origins the worker may fetch from besides its own (remote checkpoints the user added): its
 * script's URL lists them and the server answers it with a policy admitting exactly those
 * (scripts/csp.ts, docs/reliability.md#remote-inputs).
 */
let connectOrigins: readonly string[] = [];

function workerUrl(): string {
  const url = new URL(studioWorkerUrl, globalThis.location?.href);
  if (connectOrigins.length) url.searchParams.set('connect', connectOrigins.join(','));
  return url.href;
}

/**
 * Admits `origins` (the list grows, never shrinks in a session): a worker started under a
 * narrower policy is replaced by one under the new policy, into which the files and settings are
 * opened again and the result made again when needed, as after a crash. True when the list grew.
 */
export function admitOrigins(origins: readonly string[]): boolean {
  const more = origins.filter((o) => !connectOrigins.includes(o));
  if (more.length === 0) return false;
  connectOrigins = [...connectOrigins, ...more];
  if (life) died(life, 'restarted to admit new origins');
  return true;
}

function start(): Life {
  const worker = new Worker(workerUrl(), { type: 'module', name: 'studio' });
  const remote = wrap<StudioService>(worker);
  const replay = [...setup.values()];
  const l: Life = {
    worker,
    remote,
    waiting: new Set(),
    restored: (async () => {
      for (const c of replay) await invoke(remote, c);
    })(),
    hasResult: resultCall === undefined,
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

/** What must be in the worker before `method` runs: the setup, and for most calls the result. */
function ready(l: Life, method: string): Promise<void> {
  // A new merge waits for the old result being made again, which it would otherwise cancel.
  if (MAKES_RESULT.has(method)) return l.result ?? l.restored;
  if (l.making && !l.hasResult && !WITHOUT_RESULT.has(method))
    return l.making.then(
      () => ready(l, method),
      () => ready(l, method),
    );
  if (l.hasResult || !resultCall || WITHOUT_RESULT.has(method)) return l.restored;
  const [m, args] = resultCall;
  // A merge made again reports no progress (the page's callback belonged to the lost merge).
  const again: Call = m === 'merge' ? [m, [...args.slice(0, 3), proxy(() => {})]] : [m, args];
  l.result ??= l.restored.then(async () => {
    await invoke(l.remote, again);
    l.hasResult = true;
  });
  return l.result;
}

/** The call, failing at once with StudioWorkerDiedError if the worker dies before it answers. */
function call(l: Life, method: string, args: readonly unknown[]): Promise<unknown> {
  if (l.dead) return Promise.reject(l.dead);
  const key = SETUP[method]?.(args);
  if (key !== undefined) {
    setup.delete(key); // to the end: replayed in the order last made
    setup.set(key, [method, args]);
  } else if (method === 'forget') setup.delete(`open:${String(args[0])}`);
  else if (method === 'clearAll') {
    // ui1: nothing of the cleared files, attachments or result is made again in a later worker.
    for (const k of [...setup.keys()])
      if (/^(open|graph|labeled|images|tokenizer)\b/.test(k)) setup.delete(k);
    resultCall = undefined;
    l.hasResult = true;
  }
  const made = new Promise((resolve, reject) => {
    l.waiting.add(reject);
    ready(l, method)
      .then(() => invoke(l.remote, [method, args]))
      .then((value) => {
        if (MAKES_RESULT.has(method) && (value as { ok?: boolean } | undefined)?.ok) {
          resultCall = [method, args];
          l.hasResult = true;
        }
        resolve(value);
      }, reject)
      .finally(() => l.waiting.delete(reject));
  });
  if (MAKES_RESULT.has(method)) {
    const making = made.finally(() => {
      if (l.making === making) l.making = undefined;
    });
    making.catch(() => {});
    l.making = making;
  }
  return made;
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
