// The production build's Content-Security-Policy: nothing the page loads or sends may go beyond its
// own origin. Injected as the first <meta> of index.html at build time only — the dev server's HMR
// needs an inline script and a WebSocket, which this policy refuses. `vite preview` also sends it as
// a header, because a <meta> policy covers the document only: module workers (the studio worker, the
// CPU engine's workers, onnxruntime-web's) take their policy from their own script's response.
//
// Remote checkpoints (docs/reliability.md#remote-inputs): the page never widens its own policy (a
// <meta> policy cannot be widened after load). The studio worker, which does all remote fetching,
// is started from `…/studio.worker-HASH.js?connect=ORIGIN,ORIGIN`, listing the origins the user
// added; its script is answered with this policy but `connect-src 'self' ORIGIN…`, each origin
// checked to be a bare http(s) origin (`workerConnectOrigins`). Every other response keeps 'self'.
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'vite';

/** Directive → sources. Each source is here because the running studio needs it (docs/reliability.md). */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  // onnxruntime-web compiles its .wasm: WebAssembly needs 'wasm-unsafe-eval' (not 'unsafe-eval').
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'"],
  // fetches of the demo zoo and of onnxruntime's .wasm; nothing else.
  'connect-src': ["'self'"],
  // Charts and the mask viewer draw into canvases (no image loads); blob: and data: images are
  // local bytes (a dropped sample image shown before it is run), never a request.
  'img-src': ["'self'", 'blob:', 'data:'],
  // The stylesheet only: React's style props and Chart.js write through the CSSOM, which
  // style-src does not govern, so no 'unsafe-inline' (checked by e2e/privacy.spec.ts).
  'style-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'none'"],
};

/** Directives a <meta> policy ignores (they only work as a header). */
const HEADER_ONLY: Readonly<Record<string, readonly string[]>> = {
  'frame-ancestors': ["'self'"],
};

const serialize = (directives: Readonly<Record<string, readonly string[]>>): string =>
  Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');

export const CSP_META = serialize(CSP_DIRECTIVES);
export const CSP_HEADER = serialize({ ...CSP_DIRECTIVES, ...HEADER_ONLY });

/** The worker script's query parameter that lists the origins its policy admits. */
export const CONNECT_PARAM = 'connect';
/** More than this many added origins is refused (a Hub and its CDNs are under ten). */
export const MAX_CONNECT_ORIGINS = 32;

/**
 * The origins a worker URL's `connect` parameter lists, each a bare `http(s)://host[:port]` (what
 * `new URL(o).origin` gives back unchanged: no path, user, query, wildcard, quote or space can
 * reach the header); undefined when the parameter is absent, empty or holds anything else.
 */
export function workerConnectOrigins(search: string): string[] | undefined {
  const value = new URLSearchParams(search).get(CONNECT_PARAM);
  if (!value) return undefined;
  const origins = value.split(',');
  if (origins.length > MAX_CONNECT_ORIGINS) return undefined;
  for (const o of origins) {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      return undefined;
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== o) return undefined;
    // A host name or an IP literal only (a URL parser lets `*` and other source syntax through).
    if (!/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i.test(url.hostname)) return undefined;
  }
  return [...new Set(origins)];
}

/** The policy for a worker script that may also fetch from `origins`. */
export const workerPolicy = (origins: readonly string[]): string =>
  serialize({
    ...CSP_DIRECTIVES,
    'connect-src': [...(CSP_DIRECTIVES['connect-src'] ?? []), ...origins],
    ...HEADER_ONLY,
  });

/** The header for one response: widened only for a worker script asked for with valid origins. */
export function policyFor(req: Pick<IncomingMessage, 'url' | 'headers'>): string {
  if (req.headers['sec-fetch-dest'] !== 'worker') return CSP_HEADER;
  const search = (req.url ?? '').split('?')[1] ?? '';
  const origins = workerConnectOrigins(search);
  return origins ? workerPolicy(origins) : CSP_HEADER;
}

export function contentSecurityPolicy(): Plugin[] {
  return [
    {
      name: 'merge-studio:csp-meta',
      apply: 'build',
      transformIndexHtml: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP_META },
          injectTo: 'head-prepend',
        },
      ],
    },
    {
      name: 'merge-studio:csp-preview-header',
      configurePreviewServer(server) {
        server.middlewares.use((req, res, next) => {
          res.setHeader('Content-Security-Policy', policyFor(req));
          next();
        });
      },
    },
  ];
}
