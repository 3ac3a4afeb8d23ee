// Remote checkpoints in the studio worker: a Hugging Face Hub repo by name, or a file on any
// server that answers ranged GETs, opened from its headers only (src/formats/hub.ts,
// http-source.ts); tensor bytes are fetched by range when the merge reads them. Only this worker
// fetches remote bytes: its script is served with a policy whose connect-src admits exactly the
// origins the user added (scripts/csp.ts; docs/reliability.md#remote-inputs). The access token
// lives in this worker's memory and in the page's, is sent only to the Hub's own origin (the
// sources do that), and is never logged nor put in a message.
import { FormatError } from '../../src/formats/errors';
import { httpSource, type HttpSource } from '../../src/formats/http-source';
import { hubRefLabel, openHubCheckpoint, parseHubRef } from '../../src/formats/hub';
import { openCheckpoint } from '../../src/formats/open';
import type { Checkpoint } from '../../src/formats/tensor';
import { parsePeftConfig, type PeftConfig } from '../../src/peft/lora';

export interface RemoteRequest {
  /** What the user typed: `org/name[@rev][/folder]`, `hf://…`, a Hub URL or any https URL. */
  readonly text: string;
  /** The Hub's address (https://huggingface.co, a mirror, a local stand-in). */
  readonly endpoint: string;
  /** For gated or private Hub repos; never for another server. */
  readonly token?: string;
}

/** What the page learns besides the summary: names, the bytes fetched, and a fingerprint. */
export interface RemoteAbout {
  /** `hf://repo[@rev][/folder]/file` or the URL: the card's label. */
  readonly label: string;
  /** The task name it gets by default: the repo's name (or the folder or file stem in it). */
  readonly name: string;
  /** Bytes fetched to read its headers. */
  readonly fetched: number;
  /**
   * Sizes and validators (ETags) of its files, when every file has one: the Hub stores weights by
   * their content's hash (one object, one ETag, whichever repo names it), so the same weights in
   * two repos match without reading a tensor byte.
   */
  readonly fingerprint?: string;
}

export interface RemoteOpened extends RemoteAbout {
  readonly checkpoint: Checkpoint;
  /** The files' sizes, summed. */
  readonly bytes: number;
  readonly peft?: PeftConfig;
}

const stem = (path: string): string =>
  (path.split('/').filter(Boolean).at(-1) ?? path).replace(/\.(safetensors|onnx|bin|pt|pth|ckpt)$/i, '');
const GENERIC = new Set(['', 'model', 'pytorch_model', 'adapter_model']);

/** A URL's file stem, or its folder's name when the file has a generic name (model.safetensors). */
function nameOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const last = stem(path);
  return GENERIC.has(last) && parts.length > 1 ? (parts.at(-2) ?? last) : last;
}

/** CSP refusals seen in this worker (the browser names only the blocked origin for a redirect). */
const refusedOrigins = new Set<string>();
if (typeof self !== 'undefined' && 'addEventListener' in self) {
  self.addEventListener('securitypolicyviolation', (e) => {
    const uri = (e as SecurityPolicyViolationEvent).blockedURI;
    try {
      refusedOrigins.add(new URL(uri).origin);
    } catch {
      /* not a URL ('inline', 'eval'): not a fetch */
    }
  });
}

/** The origins this worker's script URL admits (app/worker/client.ts, scripts/csp.ts). */
function workerConnectOrigins(): string[] {
  const href = (globalThis as { location?: { href: string } }).location?.href;
  return href ? (new URL(href).searchParams.get('connect') ?? '').split(',').filter(Boolean) : [];
}

/** Opened remote checkpoints and the bytes each fetched since it was opened. */
export class RemoteInputs {
  private readonly fetchedBy = new Map<string, { n: number }>();

  /** Bytes fetched per checkpoint id: its headers, then what merges and exports read. */
  fetched(): Record<string, number> {
    return Object.fromEntries([...this.fetchedBy].map(([id, c]) => [id, c.n]));
  }

  forget(id: string): void {
    this.fetchedBy.delete(id);
  }

  async open(id: string, request: RemoteRequest): Promise<RemoteOpened> {
    const counter = { n: 0 };
    const onFetched = (n: number): void => {
      counter.n += n;
    };
    const before = new Set(refusedOrigins);
    try {
      const opened = await this.openWith(request, onFetched);
      this.fetchedBy.set(id, counter);
      return { ...opened, fetched: counter.n };
    } catch (e) {
      const refused = [...refusedOrigins].filter((o) => !before.has(o));
      if (refused.length === 0) throw e;
      // Chromium reports a refused redirect under the URL first asked for (it does not leak where
      // the redirect led): an admitted origin refused means a redirect off the admitted ones.
      const admitted = new Set(workerConnectOrigins());
      const redirects = refused.filter((o) => admitted.has(o));
      const others = refused.filter((o) => !admitted.has(o));
      throw new FormatError(
        'missing-file',
        request.text.trim(),
        others.length
          ? `the studio's Content-Security-Policy refused ${others.join(', ')}, which the server sent the request to: add that origin to the Hub's file servers to allow it`
          : `${redirects.join(', ')} redirected the request to an origin not added, which the studio's Content-Security-Policy refused (the browser does not say which): add the origins the Hub redirects downloads to (its file servers) under "Hub server"`,
        { cause: e },
      );
    }
  }

  private async openWith(
    request: RemoteRequest,
    onFetched: (n: number) => void,
  ): Promise<Omit<RemoteOpened, 'fetched'>> {
    const text = request.text.trim();
    const ref = parseHubRef(text, request.endpoint);
    if (ref) {
      const remote = await openHubCheckpoint(ref, {
        endpoint: request.endpoint,
        ...(request.token ? { token: request.token } : {}),
        onFetched,
      });
      const peft =
        remote.layout.kind === 'adapter' && remote.layout.adapterConfig
          ? parsePeftConfig(
              await remote.readText(remote.layout.adapterConfig),
              `hf://${hubRefLabel(ref)}/${remote.layout.adapterConfig}`,
            )
          : undefined;
      const last = stem(ref.file ?? ref.subfolder);
      const generic = GENERIC.has(last);
      return {
        checkpoint: remote.checkpoint,
        label: `hf://${hubRefLabel(ref)}${ref.file ? '' : `/${remote.layout.weights.slice(ref.subfolder ? ref.subfolder.length + 1 : 0)}`}`,
        name: generic ? (ref.repo.split('/').at(-1) ?? ref.repo) : last,
        bytes: remote.sources.reduce((a, s) => a + s.size, 0),
        ...fingerprintOf(remote.sources),
        ...(peft ? { peft } : {}),
      };
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new FormatError(
        'unsupported',
        text,
        'neither a Hub repository (org/name) nor an https:// address',
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new FormatError('unsupported', text, 'only http(s) addresses can be read');
    }
    // Another server: one file, and no token (the token is the Hub's, for the Hub's origin only).
    const source = await httpSource(url.href, { onFetched });
    return {
      checkpoint: await openCheckpoint(source),
      label: url.href,
      name: nameOf(url.pathname),
      bytes: source.size,
      ...fingerprintOf([source]),
    };
  }
}

function fingerprintOf(sources: readonly HttpSource[]): { fingerprint?: string } {
  if (!sources.every((s) => s.validator)) return {};
  return { fingerprint: `remote:${sources.map((s) => `${s.size}/${s.validator ?? ''}`).join(':')}` };
}
