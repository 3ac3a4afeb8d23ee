// Plan: the studio worker's remote inputs driven in Node against the local Hub stand-in
// (src/formats/testing-hub.ts): three repos opened by name from their headers only (bytes fetched
// reported, well under the files' size), aligned, merged to the same λ as the same bytes opened as
// Blobs, the merge's tensor reads counted; a repo of another model refused from its header alone
// (the server sent nothing more); a PEFT adapter repo; the same weights in a second repo have the
// same fingerprint; the token goes to the Hub and never to a plain URL's server; a bad name is refused.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodSpec } from '../../src/merge/methods';
import { startHubServer, type HubServer } from '../../src/formats/testing-hub';
import { StudioService } from './service';

const ZOO = 'public/zoo/digits-8';
const MODELS = ['base', 'plain', 'rotated'];
const ADAPTER = 'public/zoo/words-4/adapters/lang';
const file = async (path: string) => new Uint8Array(await readFile(path));
let hub: HubServer;
const bytes: Record<string, Uint8Array> = {};

beforeAll(async () => {
  for (const m of MODELS) bytes[m] = new Uint8Array(await readFile(`${ZOO}/${m}.safetensors`));
  hub = await startHubServer({
    ...Object.fromEntries(MODELS.map((m) => [`zoo/${m}`, { 'model.safetensors': bytes[m] as Uint8Array }])),
    'mirror/plain-copy': { 'weights/model.safetensors': bytes['plain'] as Uint8Array },
    // Another model (other shapes), and a PEFT adapter repo over it.
    'text/base': { 'model.safetensors': await file('public/zoo/words-4/base.safetensors') },
    'text/lang-lora': {
      'adapter_config.json': await file(`${ADAPTER}/adapter_config.json`),
      'adapter_model.safetensors': await file(`${ADAPTER}/adapter_model.safetensors`),
    },
  });
});
afterAll(() => hub.close());

const selection = { baseId: 'base', tasks: ['plain', 'rotated'].map((id) => ({ id, name: id })) };

describe('remote checkpoints in the studio worker', () => {
  it('opens Hub repos by name from their headers and merges them like local files', async () => {
    const remote = new StudioService();
    for (const m of MODELS) {
      const outcome = await remote.openRemote(m, {
        text: `zoo/${m}`,
        endpoint: hub.endpoint,
        token: 'secret',
      });
      if (!outcome.ok) throw new Error(outcome.message);
      expect(outcome.about).toMatchObject({ label: `hf://zoo/${m}/model.safetensors`, name: m });
      expect(outcome.summary.bytes).toBe(bytes[m]?.byteLength);
      expect(outcome.about.fetched).toBeGreaterThan(0);
      expect(outcome.about.fetched).toBeLessThan((bytes[m]?.byteLength ?? 0) / 100);
    }
    // The token went with the Hub's requests, never to its CDN.
    expect(hub.log.some((l) => l.startsWith('hub GET') && l.endsWith('auth'))).toBe(true);
    expect(hub.log.filter((l) => l.startsWith('cdn') && l.endsWith('auth'))).toEqual([]);
    expect(remote.align(selection)).toMatchObject({ ok: true, refused: [] });
    const headers = remote.remoteFetched();

    const local = new StudioService();
    for (const m of MODELS)
      await local.open(
        m,
        { path: `${m}.safetensors`, file: new Blob([bytes[m] as Uint8Array<ArrayBuffer>]) },
        [],
      );
    const [a, b] = await Promise.all(
      [remote, local].map((s) => s.merge(selection, methodSpec('emr'), 'cpu', () => {})),
    );
    if (!a?.ok || !b?.ok) throw new Error('merge failed');
    expect(a.summary.tasks.map((t) => t.lambda)).toEqual(b.summary.tasks.map((t) => t.lambda));
    // The merge read tensors by range: each card's count grew past its headers.
    for (const m of MODELS) expect(remote.remoteFetched()[m]).toBeGreaterThan(headers[m] ?? 0);
  });

  it('gives the same weights in another repo the same fingerprint, and a plain URL no token', async () => {
    const service = new StudioService();
    const one = await service.openRemote('one', { text: 'zoo/plain', endpoint: hub.endpoint });
    const two = await service.openRemote('two', {
      text: `${hub.endpoint}/mirror/plain-copy/tree/main/weights`,
      endpoint: hub.endpoint,
    });
    if (!one.ok || !two.ok) throw new Error('open failed');
    expect(two.about.label).toBe('hf://mirror/plain-copy/weights/model.safetensors');
    expect(two.about.fingerprint).toBeDefined();
    expect(two.about.fingerprint).toBe(one.about.fingerprint);
    const before = hub.log.length;
    const direct = await service.openRemote('url', {
      text: `${hub.cdn}/zoo/rotated/model.safetensors`,
      endpoint: hub.endpoint,
      token: 'secret',
    });
    expect(direct).toMatchObject({ ok: true, about: { name: 'rotated' } });
    expect(hub.log.slice(before).every((l) => !l.endsWith('auth'))).toBe(true);
  });

  it('refuses a repo of another model from its headers, before any tensor byte; opens an adapter repo', async () => {
    const service = new StudioService();
    for (const [id, text] of [
      ['base', 'zoo/base'],
      ['plain', 'zoo/plain'],
      ['other', 'text/base'],
    ] as const)
      expect(await service.openRemote(id, { text, endpoint: hub.endpoint })).toMatchObject({ ok: true });
    const outcome = service.align({
      baseId: 'base',
      tasks: [
        { id: 'plain', name: 'plain' },
        { id: 'other', name: 'other' },
      ],
    });
    expect(outcome.refused.map((r) => r.id)).toEqual(['other']);
    expect(outcome.refused[0]?.message).toMatch(/^Not a fine-tune of this base/);
    // What the server sent for that repo is what its card says it fetched: its header, no tensor.
    const other = await file('public/zoo/words-4/base.safetensors');
    const header = new DataView(other.buffer, other.byteOffset, 8);
    expect(hub.served.get('text/base')).toBe(service.remoteFetched()['other']);
    expect(hub.served.get('text/base')).toBeLessThanOrEqual(16 + Number(header.getBigUint64(0, true)) + 4096);

    const lora = await service.openRemote('lora', { text: 'text/lang-lora', endpoint: hub.endpoint });
    expect(lora).toMatchObject({
      ok: true,
      summary: { peft: { type: 'LORA' } },
      about: { label: 'hf://text/lang-lora/adapter_model.safetensors', name: 'lang-lora' },
    });
  });

  it('refuses what is neither a repo nor an address, and a repo that is not there', async () => {
    const service = new StudioService();
    expect(await service.openRemote('x', { text: 'a/b/../c@', endpoint: hub.endpoint })).toMatchObject({
      ok: false,
    });
    expect(await service.openRemote('y', { text: 'zoo/absent', endpoint: hub.endpoint })).toMatchObject({
      ok: false,
      message: expect.stringContaining('no such repository'),
    });
    expect(service.align({ baseId: 'y', tasks: [] })).toMatchObject({ ok: false });
  });
});
