// The remote slice: the origins this page talks to (each admitted because the user added a repo or
// a URL there), the Hub's address, and the bytes each remote checkpoint fetched. Pure functions of
// the state, so tests drive them without a worker. The access token is never part of it: it stays
// in the dialog's memory and the worker's, never in a store, in storage or in a URL.
import { createStore } from 'zustand/vanilla';

/** The Hub itself (src/formats/hub.ts's DEFAULT_HUB_ENDPOINT; not imported: the page loads no reader). */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/**
 * Where huggingface.co sends a file's bytes: `resolve/` answers with a redirect to its LFS CDN
 * (cdn-lfs*.hf.co, formerly cdn-lfs*.huggingface.co) or, for repos stored on Xet, its bridge.
 * A redirect to an origin not admitted is refused by the policy, and the dialog says so
 * (app/worker/remote.ts); the origin can then be added under "Hub server".
 */
export const HUB_FILE_ORIGINS: readonly string[] = [
  'https://cdn-lfs.hf.co',
  'https://cdn-lfs-us-1.hf.co',
  'https://cdn-lfs-eu-1.hf.co',
  'https://cdn-lfs.huggingface.co',
  'https://cdn-lfs-us-1.huggingface.co',
  'https://cdn-lfs-eu-1.huggingface.co',
  'https://cas-bridge.xethub.hf.co',
];

export interface AdmittedOrigin {
  readonly origin: string;
  /** Why it is admitted, in words: "Hugging Face Hub", "file server of …", "added URL". */
  readonly why: string;
}

export interface RemoteState {
  /** The origins the studio worker may fetch from besides the page's own, in the order added. */
  readonly origins: readonly AdmittedOrigin[];
  /** The Hub's address (HF_ENDPOINT for huggingface_hub): huggingface.co, a mirror, a stand-in. */
  readonly endpoint: string;
  /** The origins the Hub redirects file downloads to (its CDN). */
  readonly fileOrigins: readonly string[];
  /** Bytes fetched per remote checkpoint id (headers, then what merges read). */
  readonly fetched: Readonly<Record<string, number>>;
  /** Whether the "Add from Hugging Face" dialog is open. */
  readonly dialogOpen: boolean;
}

export const initialRemote: RemoteState = {
  origins: [],
  endpoint: DEFAULT_HUB_ENDPOINT,
  fileOrigins: HUB_FILE_ORIGINS,
  fetched: {},
  dialogOpen: false,
};

export const remoteStore = createStore<RemoteState>(() => initialRemote);

export class RemoteAddressError extends Error {
  override readonly name = 'RemoteAddressError';
}

/** A bare http(s) origin, or a RemoteAddressError naming what is wrong. */
export function originOf(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RemoteAddressError(`${what} "${text}" is not an address (https://host)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new RemoteAddressError(`${what} "${text}" is not an http(s) address`);
  return url.origin;
}

/**
 * The origins reading `text` needs: an http(s) URL on another server needs its own origin; anything
 * else is a Hub repo (by name, `hf://` or a Hub URL), which needs the Hub and its file servers. The
 * worker then reads the reference itself and refuses a malformed one (src/formats/hub.ts), so the
 * page never loads the readers. Throws a RemoteAddressError for a bad address.
 */
export function originsFor(
  text: string,
  state: Pick<RemoteState, 'endpoint' | 'fileOrigins'>,
): AdmittedOrigin[] {
  const hub = originOf(state.endpoint, 'The Hub address');
  const t = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t) && !/^hf:\/\//i.test(t)) {
    const origin = originOf(t, 'The address');
    if (origin !== hub) return [{ origin, why: 'added address' }];
  }
  const host = new URL(hub).host;
  return [
    { origin: hub, why: `Hub (${host})` },
    ...state.fileOrigins.map((o) => ({
      origin: originOf(o, 'A file server'),
      why: `file server of ${host}`,
    })),
  ];
}

/** The state with `added` admitted (each origin once, the first reason kept). */
export function withOrigins(state: RemoteState, added: readonly AdmittedOrigin[]): RemoteState {
  const have = new Set(state.origins.map((o) => o.origin));
  const fresh = added.filter((o) => !have.has(o.origin) && (have.add(o.origin), true));
  return fresh.length ? { ...state, origins: [...state.origins, ...fresh] } : state;
}
