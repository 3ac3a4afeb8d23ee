// A local stand-in for the Hugging Face Hub, for tests only (loopback, Node): the repo API
// (`/api/models/{repo}[/revision/{rev}]`), `/{repo}/resolve/{rev}/{path}` answered with a redirect
// to a CDN-like second origin that serves the bytes by range with ETags, CORS as the Hub sends it,
// and faults on request (429s, a connection dropped mid-body, a file changed between requests, a
// server without ranges, a gated repo). It counts the bytes it served, per repo.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

export interface HubRepoFiles {
  /** Path in the repo → its bytes. */
  readonly [path: string]: Uint8Array;
}

export interface HubFaults {
  /** Answer 429 to this many file requests first (Retry-After: 0). */
  throttle?: number;
  /** Close the connection after this many body bytes, this many times. */
  dropAfter?: { bytes: number; times: number };
  /** Answer 200 with the whole file to ranged requests. */
  noRanges?: boolean;
  /** Refuse requests without `authorization: Bearer <token>` (a gated repo). */
  token?: string;
}

export interface HubServer {
  /** Use as HF_ENDPOINT. */
  readonly endpoint: string;
  /** The CDN-like origin that file requests are redirected to. */
  readonly cdn: string;
  readonly faults: HubFaults;
  /** Body bytes served per repo (files only, API answers not counted). */
  readonly served: Map<string, number>;
  /** Every request: `origin-or-cdn METHOD path range? auth?` */
  readonly log: string[];
  /** Replaces a file's bytes (a push): its ETag changes with them. */
  replace(repo: string, path: string, bytes: Uint8Array): void;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'content-range, content-length, etag, accept-ranges, x-repo-commit',
};

const etagOf = (b: Uint8Array): string => `"${createHash('sha256').update(b).digest('hex').slice(0, 32)}"`;

export async function startHubServer(repos: Readonly<Record<string, HubRepoFiles>>): Promise<HubServer> {
  const files = new Map<string, Map<string, Uint8Array>>(
    Object.entries(repos).map(([repo, f]) => [repo, new Map(Object.entries(f))]),
  );
  const sha = (repo: string): string =>
    createHash('sha1')
      .update(repo + [...(files.get(repo)?.values() ?? [])].map(etagOf).join())
      .digest('hex');
  const faults: HubFaults = {};
  const served = new Map<string, number>();
  const log: string[] = [];
  let cdnOrigin = '';

  const authorized = (req: IncomingMessage): boolean =>
    faults.token === undefined || req.headers.authorization === `Bearer ${faults.token}`;

  const api = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const m = /^\/api\/models\/(.+?)(?:\/revision\/([^/]+))?$/.exec(path);
    const repo = m?.[1] ?? '';
    const f = files.get(repo);
    if (!f) return void res.writeHead(404, CORS).end('{"error":"Repository not found"}');
    if (!authorized(req)) return void res.writeHead(401, CORS).end('{"error":"gated"}');
    const body = JSON.stringify({
      id: repo,
      sha: sha(repo),
      siblings: [...f.keys()].map((rfilename) => ({ rfilename })),
    });
    res.writeHead(200, { ...CORS, 'content-type': 'application/json' }).end(body);
  };

  const origin = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    log.push(
      `hub ${req.method} ${path} ${req.headers.range ?? ''} ${req.headers.authorization ? 'auth' : ''}`,
    );
    if (req.method === 'OPTIONS') {
      return void res
        .writeHead(204, { ...CORS, 'access-control-allow-headers': 'range, authorization' })
        .end();
    }
    if (path.startsWith('/api/models/')) return api(req, res, path);
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = m?.[1] ?? '';
    if (!m || !files.get(repo)?.has(m[3] ?? '')) return void res.writeHead(404, CORS).end();
    if (!authorized(req)) return void res.writeHead(401, CORS).end();
    // The Hub redirects LFS files to its CDN; the token must not follow (fetch drops it cross-origin).
    res.writeHead(302, { ...CORS, location: `${cdnOrigin}/${repo}/${m[3] ?? ''}` }).end();
  });

  const cdn = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    log.push(
      `cdn ${req.method} ${path} ${req.headers.range ?? ''} ${req.headers.authorization ? 'auth' : ''}`,
    );
    if (req.method === 'OPTIONS') {
      return void res.writeHead(204, { ...CORS, 'access-control-allow-headers': 'range' }).end();
    }
    const repo = [...files.keys()].find((r) => path.startsWith(`/${r}/`)) ?? '';
    const bytes = files.get(repo)?.get(path.slice(repo.length + 2));
    if (!bytes) return void res.writeHead(404, CORS).end();
    if (faults.throttle && faults.throttle > 0) {
      faults.throttle--;
      return void res.writeHead(429, { ...CORS, 'retry-after': '0' }).end();
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
    const count = (n: number): void => void served.set(repo, (served.get(repo) ?? 0) + n);
    if (faults.noRanges || !range) {
      count(bytes.byteLength);
      return void res
        .writeHead(200, { ...CORS, 'content-length': bytes.byteLength, etag: etagOf(bytes) })
        .end(bytes);
    }
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), bytes.byteLength - 1);
    if (start >= bytes.byteLength) {
      return void res.writeHead(416, { ...CORS, 'content-range': `bytes */${bytes.byteLength}` }).end();
    }
    const slice = bytes.subarray(start, end + 1);
    res.writeHead(206, {
      ...CORS,
      'accept-ranges': 'bytes',
      'content-range': `bytes ${start}-${end}/${bytes.byteLength}`,
      'content-length': slice.byteLength,
      etag: etagOf(bytes),
    });
    const drop = faults.dropAfter;
    if (drop && drop.times > 0 && slice.byteLength > drop.bytes) {
      drop.times--;
      count(drop.bytes);
      return void res.write(slice.subarray(0, drop.bytes), () => res.destroy());
    }
    count(slice.byteLength);
    res.end(slice);
  });

  const listen = (s: Server): Promise<string> =>
    new Promise((resolve) =>
      s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
    );
  const endpoint = await listen(origin);
  cdnOrigin = await listen(cdn);
  const close = (s: Server): Promise<void> =>
    new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return {
    endpoint,
    cdn: cdnOrigin,
    faults,
    served,
    log,
    replace(repo, path, bytes) {
      files.get(repo)?.set(path, bytes);
    },
    close: async () => {
      await Promise.all([close(origin), close(cdn)]);
    },
  };
}
