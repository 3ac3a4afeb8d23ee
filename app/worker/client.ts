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
import type { StudioApi, StudioCalls, StudioMethod, StudioRemote } from './protocol';
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
 * What each call of the API does to the worker's state, for every call (a call added to
 * StudioCalls must be classified here before the project compiles):
 * - a function: it sets up state, replayed in a fresh worker in the order last made, keyed by what
 *   it sets (a setting, an open file, a task's graph, labeled set or text images, the tokenizer);
 * - 'makes-result': it makes the result on screen (the last successful one is made again when needed);
 * - 'without-result': it neither needs the result on screen nor changes it;
 * - 'needs-result': it works on the result on screen.
 */
type CallKind<K extends StudioMethod> =
  ((args: StudioCalls[K]['args']) => string) | 'makes-result' | 'without-result' | 'needs-result';

const CALLS: { readonly [K in StudioMethod]: CallKind<K> } = {
  setOrigin: () => 'origin',
  setBudget: () => 'budget',
  setSpillOver: () => 'spill',
  setKeptScratchRoom: () => 'kept-scratch',
  setShardBytes: () => 'shards',
  open: ([id]) => `open:${id}`,
  openRemote: ([id]) => `open:${id}`,
  attachGraph: ([, task]) => `graph:${task}`,
  attachLabeled: ([, task]) => `labeled:${task}`,
  attachLabeledSet: ([task]) => `labeled:${task}`,
  attachLabeledText: ([task]) => `labeled:${task}`,
  attachTextImages: ([task]) => `images:${task}`,
  attachTokenizer: () => 'tokenizer',
  merge: 'makes-result',
  openBundle: 'makes-result',
  forget: 'without-result',
  clearAll: 'without-result',
  align: 'without-result',
  cancel: 'without-result',
  cancelEvaluate: 'without-result',
  recentMerges: 'without-result',
  recentBundle: 'without-result',
  removeRecent: 'without-result',
  remoteFetched: 'without-result',
  maskImage: 'needs-result',
  histograms: 'needs-result',
  // After a worker restart only the last result is made again: choosing another then finds none.
  chooseResult: 'needs-result',
  export: 'needs-result',
  inferenceSetup: 'needs-result',
  sample: 'needs-result',
  infer: 'needs-result',
  evaluate: 'needs-result',
  // A worker made again holds the merge again, at its defaults: the page keeps what it was told.
  chooseLambdas: 'needs-result',
  cancelChoose: 'without-result',
};

const isMethod = (name: string): name is StudioMethod => Object.hasOwn(CALLS, name);
/** The key a setup call sets, if it is one. */
const setupKey = (method: StudioMethod, args: readonly unknown[]): string | undefined => {
  const kind = CALLS[method] as CallKind<StudioMethod>;
  return typeof kind === 'function' ? kind(args as StudioCalls[StudioMethod]['args']) : undefined;
};
const makesResult = (method: StudioMethod) => CALLS[method] === 'makes-result';
/** Calls that neither need the result on screen nor change it (setup calls included). */
const withoutResult = (method: StudioMethod) =>
  CALLS[method] === 'without-result' || typeof CALLS[method] === 'function';

type Call = readonly [method: StudioMethod, args: readonly unknown[]];
const invoke = (remote: Remote<StudioApi>, [method, args]: Call): Promise<unknown> =>
  (remote[method] as (...a: readonly unknown[]) => Promise<unknown>)(...args);

interface Life {
  readonly worker: Worker;
  readonly remote: Remote<StudioApi>;
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
  const remote = wrap<StudioApi>(worker);
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
function ready(l: Life, method: StudioMethod): Promise<void> {
  // A new merge waits for the old result being made again, which it would otherwise cancel.
  if (makesResult(method)) return l.result ?? l.restored;
  if (l.making && !l.hasResult && !withoutResult(method))
    return l.making.then(
      () => ready(l, method),
      () => ready(l, method),
    );
  if (l.hasResult || !resultCall || withoutResult(method)) return l.restored;
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
function call(l: Life, method: StudioMethod, args: readonly unknown[]): Promise<unknown> {
  if (l.dead) return Promise.reject(l.dead);
  const key = setupKey(method, args);
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
        if (makesResult(method) && (value as { ok?: boolean } | undefined)?.ok) {
          resultCall = [method, args];
          l.hasResult = true;
        }
        resolve(value);
      }, reject)
      .finally(() => l.waiting.delete(reject));
  });
  if (makesResult(method)) {
    const making = made.finally(() => {
      if (l.making === making) l.making = undefined;
    });
    making.catch(() => {});
    l.making = making;
  }
  return made;
}

/** The studio worker's service; every call goes to the live worker, started (again) as needed. */
export function studioWorker(): StudioRemote {
  return new Proxy({} as StudioRemote, {
    get(_target, prop) {
      if (typeof prop !== 'string' || !isMethod(prop)) return undefined;
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
