// A byte source over HTTP: a remote checkpoint read by range, like a local file, so that the
// readers can check N repositories' headers (a few kB each) before any tensor byte is fetched,
// and the merge then streams exactly the ranges it needs. Uses only GETs (weights never leave the
// machine) and the platform's `fetch` (browser and Node alike).
//
// Why each part is here:
// - Ranged GETs: the Hugging Face Hub and any static server answer `Range: bytes=a-b` with 206.
//   A server that answers 200 (no range support) would send the whole file for every read, so it
//   is refused, unless the whole file fits in the first read anyway.
// - A validator (ETag, else Last-Modified) taken from the first answer and compared on every
//   later one: a file that changes mid-merge is refused ('changed'), never mixed.
// - Retries with backoff on transient failures (429, 5xx, dropped connections), resuming at the
//   byte where the body stopped, so a flaky link costs time, not the merge.
// - A read-ahead window: the readers' many small header reads become one request per window.
import { FormatError } from './errors';
import { checkRange, type ByteSource } from './source';

export interface HttpSourceOptions {
  /** Extra request headers (an access token for a gated repository). Sent only to this URL's requests. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Small reads fetch at least this many bytes from their offset (default 4 KiB): a reader's run of
   * small reads costs one request, yet a safetensors header is fetched to the byte, so checking N
   * repos costs their headers and little more.
   */
  readonly readAheadBytes?: number;
  /** What opening fetches: the first bytes, which also tell the size and validator (default 16). */
  readonly probeBytes?: number;
  /** Attempts per read, the first included (default 5). */
  readonly attempts?: number;
  /** First backoff in ms, doubled each retry (default 250); a Retry-After header wins when shorter than 30 s. */
  readonly backoffMs?: number;
  /** Called with the count of body bytes as they arrive (progress counts bytes fetched). */
  readonly onFetched?: (bytes: number) => void;
  readonly signal?: AbortSignal;
  /** The fetch to use (tests; defaults to the global one). */
  readonly fetch?: typeof fetch;
  /** The name used in messages (defaults to the URL). */
  readonly name?: string;
}

export interface HttpSource extends ByteSource {
  readonly url: string;
  /** The validator the file was opened with (ETag or Last-Modified), if the server sent one. */
  readonly validator: string | undefined;
}

const DEFAULT_READ_AHEAD = 4 * 1024;
const DEFAULT_PROBE = 16;
const MAX_RETRY_AFTER_MS = 30_000;

/** Thrown inside one attempt for a failure worth retrying. */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const validatorOf = (r: Response): string | undefined =>
  r.headers.get('etag') ?? r.headers.get('last-modified') ?? undefined;

/** `bytes a-b/total` → total (undefined when absent or `*`). */
function totalOf(contentRange: string | null): number | undefined {
  const m = /^bytes\s+(?:\d+-\d+|\*)\/(\d+)\s*$/i.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

function startOf(contentRange: string | null): number | undefined {
  const m = /^bytes\s+(\d+)-\d+\//i.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

function retryAfterMs(r: Response): number | undefined {
  const v = r.headers.get('retry-after');
  if (v === null) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Opens `url` for reading by range: one ranged GET of the first bytes tells the size (from
 * Content-Range), whether ranges are served, and the validator later reads are held to.
 */
export async function httpSource(url: string, options: HttpSourceOptions = {}): Promise<HttpSource> {
  const name = options.name ?? url;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const attempts = Math.max(1, options.attempts ?? 5);
  const backoff = options.backoffMs ?? 250;
  const readAhead = Math.max(1, options.readAheadBytes ?? DEFAULT_READ_AHEAD);
  let validator: string | undefined;
  let size = -1;
  /** Where reads go: `url`, or the address its redirect led to last time. */
  let target = url;

  /** One GET of [start, end) with retries; `into` receives the bytes. */
  const getRange = async (start: number, end: number, into: Uint8Array, first: boolean): Promise<number> => {
    let done = 0; // bytes of [start, end) already received, kept across retries
    let lastError = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        await sleep(backoff * 2 ** (attempt - 1), options.signal);
      }
      try {
        return await oneAttempt(start + done, end, into, done, first, (n) => (done += n));
      } catch (e) {
        if (e instanceof FormatError) throw e;
        if (options.signal?.aborted) throw options.signal.reason as Error;
        lastError = e instanceof Error ? e.message : String(e);
        if (e instanceof Transient && e.retryAfterMs !== undefined) {
          await sleep(Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS), options.signal);
        }
      }
    }
    throw new FormatError(
      'changed',
      name,
      `reading bytes ${start}-${end - 1} failed after ${attempts} attempts: ${lastError}`,
    );
  };

  const oneAttempt = async (
    from: number,
    end: number,
    into: Uint8Array,
    at: number,
    first: boolean,
    got: (n: number) => void,
  ): Promise<number> => {
    // Straight to where the last answer came from (the Hub's CDN after its redirect): one request
    // per read, not two. The caller's headers (a token) go to the URL's own origin only.
    const via = target;
    const own = new URL(via).origin === new URL(url).origin;
    const headers: Record<string, string> = {
      ...(own ? options.headers : {}),
      range: `bytes=${from}-${end - 1}`,
    };
    let response: Response;
    try {
      response = await doFetch(via, {
        headers,
        ...(options.signal ? { signal: options.signal } : {}),
        cache: 'no-store',
      });
    } catch (e) {
      throw new Transient(`request failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const { status } = response;
    if (via !== url && [401, 403, 404, 410].includes(status)) {
      // A signed CDN address expires: go back through the URL (and its redirect) once more.
      await response.body?.cancel().catch(() => undefined);
      target = url;
      throw new Transient(`the redirected address answered ${status}`, 0);
    }
    if (response.redirected && response.url) target = response.url;
    if (status === 429 || status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      throw new Transient(`the server answered ${status}`, retryAfterMs(response));
    }
    if (status === 416 && first && from === 0) {
      // An empty file: nothing to read, and no range to serve.
      size = totalOf(response.headers.get('content-range')) ?? 0;
      validator = validatorOf(response);
      await response.body?.cancel().catch(() => undefined);
      return 0;
    }
    if (status === 412) {
      throw new FormatError('changed', name, 'the file changed on the server while it was being read');
    }
    if (status === 401 || status === 403) {
      throw new FormatError(
        'missing-file',
        name,
        `the server refused access (${status}): a gated or private repository needs an access token`,
      );
    }
    if (status === 404) throw new FormatError('missing-file', name, 'not found on the server (404)');
    if (status !== 206 && status !== 200) {
      throw new FormatError('missing-file', name, `the server answered ${status} ${response.statusText}`);
    }
    const now = validatorOf(response);
    let total: number | undefined;
    if (status === 200) {
      // No range support: the body is the whole file. Fine only when the whole file is what the
      // first read asked for anyway; otherwise every read would download everything.
      total = Number(response.headers.get('content-length') ?? NaN);
      if (!(first && from === 0 && Number.isFinite(total) && total <= end)) {
        await response.body?.cancel().catch(() => undefined);
        throw new FormatError(
          'unsupported',
          name,
          'the server does not support range requests (it answered 200 to a ranged GET), so the file cannot be read by parts',
        );
      }
    } else {
      total = totalOf(response.headers.get('content-range'));
      if (startOf(response.headers.get('content-range')) !== from) {
        await response.body?.cancel().catch(() => undefined);
        throw new FormatError(
          'unsupported',
          name,
          `the server answered a range other than the one asked for`,
        );
      }
    }
    if (first && from === 0 && at === 0) {
      if (total === undefined) {
        throw new FormatError('unsupported', name, 'the server did not say the file size (Content-Range)');
      }
      size = total;
      validator = now;
    } else if ((validator !== undefined && now !== validator) || (total !== undefined && total !== size)) {
      await response.body?.cancel().catch(() => undefined);
      throw new FormatError(
        'changed',
        name,
        `the file changed on the server while it was being read (${validator ?? size} → ${now ?? total})`,
      );
    }
    const want = Math.min(end, size) - from;
    let received = 0;
    const reader = response.body?.getReader();
    if (reader) {
      try {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (e) {
            throw new Transient(`the connection dropped after ${received} bytes: ${String(e)}`);
          }
          if (chunk.done) break;
          const take = Math.min(chunk.value.byteLength, want - received);
          into.set(chunk.value.subarray(0, take), at + received);
          received += take;
          got(take);
          options.onFetched?.(chunk.value.byteLength);
          if (received >= want) break;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    }
    if (received < want) throw new Transient(`the body ended after ${received} of ${want} bytes`);
    return at + received;
  };

  // The first bytes: size, range support and validator.
  const firstEnd = Math.max(1, options.probeBytes ?? DEFAULT_PROBE);
  const firstBytes = new Uint8Array(firstEnd);
  const firstGot = await getRange(0, firstEnd, firstBytes, true);
  let block = { start: 0, bytes: firstBytes.subarray(0, firstGot) };

  const readExact = async (offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> => {
    const out = new Uint8Array(length);
    if (length > 0) await getRange(offset, offset + length, out, false);
    return out;
  };

  const source: HttpSource = {
    url,
    name,
    size,
    validator,
    async read(offset, length) {
      checkRange(source, offset, length);
      const inBlock = offset >= block.start && offset + length <= block.start + block.bytes.byteLength;
      if (!inBlock && length < readAhead) {
        const end = Math.min(size, offset + readAhead);
        block = { start: offset, bytes: await readExact(offset, end - offset) };
      } else if (!inBlock) {
        return readExact(offset, length);
      }
      const from = offset - block.start;
      return block.bytes.slice(from, from + length);
    },
    async readInto(offset, target) {
      checkRange(source, offset, target.byteLength);
      if (target.byteLength > 0) await getRange(offset, offset + target.byteLength, target, false);
    },
  };
  return source;
}
