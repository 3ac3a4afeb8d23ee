// The production build's Content-Security-Policy: nothing the page loads or sends may go beyond its
// own origin. Injected as the first <meta> of index.html at build time only — the dev server's HMR
// needs an inline script and a WebSocket, which this policy refuses. `vite preview` also sends it as
// a header, because a <meta> policy covers the document only: module workers (the studio worker, the
// CPU engine's workers, onnxruntime-web's) take their policy from their own script's response.
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
        server.middlewares.use((_req, res, next) => {
          res.setHeader('Content-Security-Policy', CSP_HEADER);
          next();
        });
      },
    },
  ];
}
