// The HTTP byte source against a real local server (loopback only) that misbehaves on request:
// ranges, redirects to a second origin, ETags, 429s, a connection dropped mid-body, a file that
// changes between requests, and a server without range support.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFormatError } from './errors';
import { httpSource } from './http-source';
import { openCheckpoint } from './open';
import { writeSafetensors } from './safetensors';
import { MemorySink } from './sink';

interface Behaviour {
  noRanges?: boolean;
  /** Answer 429 to this many requests first. */
  throttle?: number;
  /** Close the connection after this many body bytes, this many times. */
  dropAfter?: { bytes: number; times: number };
  /** Bytes served; replaced to simulate a change (the ETag follows the content). */
  body: Uint8Array;
  etag: string;
  requests: string[];
}

const files = new Map<string, Behaviour>();

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (path.startsWith('/redirect/')) {
    res.writeHead(302, { location: `${cdnBase}/${path.slice('/redirect/'.length)}` });
    res.end();
    return;
  }
  const f = files.get(path.slice(1));
  if (!f) {
    res.writeHead(404).end();
    return;
  }
  f.requests.push(String(req.headers.range));
  if (f.throttle && f.throttle > 0) {
    f.throttle--;
    res.writeHead(429, { 'retry-after': '0' }).end();
    return;
  }
  const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
  if (f.noRanges || !m) {
    res.writeHead(200, { 'content-length': f.body.byteLength, etag: f.etag });
    res.end(f.body);
    return;
  }
  const start = Number(m[1]);
  const end = Math.min(Number(m[2]), f.body.byteLength - 1);
  const slice = f.body.subarray(start, end + 1);
  res.writeHead(206, {
    'content-range': `bytes ${start}-${end}/${f.body.byteLength}`,
    'content-length': slice.byteLength,
    etag: f.etag,
  });
  if (f.dropAfter && f.dropAfter.times > 0 && slice.byteLength > f.dropAfter.bytes) {
    f.dropAfter.times--;
    res.write(slice.subarray(0, f.dropAfter.bytes), () => res.destroy());
    return;
  }
  res.end(slice);
}

let origin: Server;
let cdn: Server;
let base = '';
let cdnBase = '';

const listen = (s: Server): Promise<string> =>
  new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );

beforeAll(async () => {
  origin = createServer(handle);
  cdn = createServer(handle);
  base = await listen(origin);
  cdnBase = await listen(cdn);
});
afterAll(async () => {
  await new Promise((r) => origin.close(r));
  await new Promise((r) => cdn.close(r));
});

function serve(name: string, body: Uint8Array, extra: Partial<Behaviour> = {}): Behaviour {
  const b: Behaviour = { body, etag: `"v1-${name}"`, requests: [], ...extra };
  files.set(name, b);
  return b;
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
const fast = { backoffMs: 1 };

describe('httpSource', () => {
  it('reads ranges: the first window tells the size, small reads come from the window', async () => {
    const body = pattern(300_000);
    const f = serve('a.bin', body);
    const s = await httpSource(`${base}/a.bin`, { ...fast, readAheadBytes: 1024, probeBytes: 1024 });
    expect(s.size).toBe(body.byteLength);
    expect(s.validator).toBe('"v1-a.bin"');
    expect(await s.read(10, 20)).toEqual(body.subarray(10, 30));
    expect(f.requests).toHaveLength(1); // served from the first window
    expect(await s.read(200_000, 50_000)).toEqual(body.subarray(200_000, 250_000));
    const into = new Uint8Array(4096);
    await s.readInto?.(123_456, into);
    expect(into).toEqual(body.subarray(123_456, 123_456 + 4096));
    await expect(s.read(299_999, 2)).rejects.toSatisfy((e) => isFormatError(e, 'truncated'));
  });

  it('follows a redirect to a second origin and counts the bytes it fetched', async () => {
    const body = pattern(5000);
    serve('b.bin', body);
    let fetched = 0;
    const s = await httpSource(`${base}/redirect/b.bin`, {
      ...fast,
      probeBytes: 100,
      onFetched: (n) => (fetched += n),
    });
    expect(await s.read(4000, 1000)).toEqual(body.subarray(4000, 5000));
    expect(fetched).toBe(1100);
  });

  it('retries 429s and resumes a dropped body at the byte where it stopped', async () => {
    const body = pattern(100_000);
    const f = serve('c.bin', body, { throttle: 2, dropAfter: { bytes: 30_000, times: 2 } });
    const s = await httpSource(`${base}/c.bin`, { ...fast, readAheadBytes: 10 });
    expect(await s.read(0, 100_000)).toEqual(body);
    // 2 × 429, the first window, then a drop at 30 000, another at 60 000, and the rest
    expect(f.requests.slice(-3)).toEqual(['bytes=0-99999', 'bytes=30000-99999', 'bytes=60000-99999']);
  });

  it('refuses a file that changed on the server between reads', async () => {
    const f = serve('d.bin', pattern(50_000));
    const s = await httpSource(`${base}/d.bin`, { ...fast, readAheadBytes: 10 });
    f.body = pattern(50_000).reverse();
    f.etag = '"v2"';
    await expect(s.read(1000, 20_000)).rejects.toSatisfy((e) => isFormatError(e, 'changed'));
  });

  it('refuses a server without range support, unless the whole file fits the first read', async () => {
    serve('e.bin', pattern(50_000), { noRanges: true });
    await expect(httpSource(`${base}/e.bin`, { ...fast, probeBytes: 1000 })).rejects.toSatisfy(
      (e) => isFormatError(e, 'unsupported') && /range requests/.test(String(e)),
    );
    serve('small.bin', pattern(500), { noRanges: true });
    const s = await httpSource(`${base}/small.bin`, { ...fast, probeBytes: 1000 });
    expect(await s.read(0, 500)).toEqual(pattern(500));
  });

  it('gives up after its attempts with a message naming the file', async () => {
    serve('f.bin', pattern(10), { throttle: 100 });
    await expect(httpSource(`${base}/f.bin`, { ...fast, attempts: 3 })).rejects.toSatisfy(
      (e) => isFormatError(e) && /f\.bin/.test(String(e)) && /3 attempts.*429/.test(String(e)),
    );
    await expect(httpSource(`${base}/missing.bin`, fast)).rejects.toSatisfy((e) =>
      isFormatError(e, 'missing-file'),
    );
  });

  it('opens a safetensors checkpoint over HTTP reading the header, then a tensor by range', async () => {
    const w = new Float32Array(20_000).map((_, i) => i / 7);
    const sink = new MemorySink('m.safetensors');
    await writeSafetensors(sink, [
      { name: 'w', dtype: 'F32', shape: [100, 200], bytes: new Uint8Array(w.buffer) },
    ]);
    const bytes = sink.bytes();
    const f = serve('m.safetensors', bytes);
    let fetched = 0;
    const s = await httpSource(`${base}/m.safetensors`, { ...fast, onFetched: (n) => (fetched += n) });
    const ckpt = await openCheckpoint(s);
    // the header only: the 16 bytes that opened the file, then the header or the 4 KiB read-ahead
    const header = new DataView(bytes.buffer).getUint32(0, true) + 8;
    expect(fetched).toBeLessThanOrEqual(16 + Math.max(header, 4096));
    const entry = [...ckpt.tensors.values()][0];
    expect(entry?.shape).toEqual([100, 200]);
    const part = await entry!.data.read(40_000, 80_000);
    expect(new Float32Array(part.buffer)).toEqual(w.subarray(10_000, 20_000));
    expect(f.requests.length).toBeGreaterThan(1);
  });
});
