// Hub repositories by name, against the local stand-in for the Hub (testing-hub.ts): what the user
// types, which files make the checkpoint, and that opening reads headers only.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFormatError } from './errors';
import { hubFileUrl, openHubCheckpoint, parseHubRef, pickHubLayout, type HubRef } from './hub';
import { openCheckpoint } from './open';
import { bytesSource } from './source';
import { startHubServer, type HubServer } from './testing-hub';

const ZOO = 'public/zoo/digits-8';

describe('parseHubRef', () => {
  it.each([
    ['org/name', { repo: 'org/name', revision: 'main', subfolder: '' }],
    ['gpt2', { repo: 'gpt2', revision: 'main', subfolder: '' }],
    ['org/name@v1.0', { repo: 'org/name', revision: 'v1.0', subfolder: '' }],
    ['hf://org/name@abc123/unet', { repo: 'org/name', revision: 'abc123', subfolder: 'unet' }],
    ['org/name/sub/folder', { repo: 'org/name', revision: 'main', subfolder: 'sub/folder' }],
    ['https://huggingface.co/org/name', { repo: 'org/name', revision: 'main', subfolder: '' }],
    [
      'https://huggingface.co/org/name/tree/dev/lora',
      { repo: 'org/name', revision: 'dev', subfolder: 'lora' },
    ],
    [
      'https://huggingface.co/org/name/blob/main/model.safetensors',
      { repo: 'org/name', revision: 'main', subfolder: '', file: 'model.safetensors' },
    ],
  ])('%s', (text, ref) => {
    expect(parseHubRef(text)).toEqual(ref);
  });

  it.each(['./base.safetensors', '/tmp/x', 'base.safetensors', 'https://example.com/org/name', 'a.bin'])(
    '%s is not a Hub reference',
    (text) => {
      expect(parseHubRef(text)).toBeUndefined();
    },
  );

  it('refuses .. in paths and names that are not repos', () => {
    expect(() => parseHubRef('hf://org/name@main/../../etc')).toThrow(/may not contain/);
    expect(() => parseHubRef('hf://org/na me')).toThrow(/not a Hugging Face repository/);
  });

  it('builds resolve URLs as huggingface_hub does, revision escaped', () => {
    const ref: HubRef = { repo: 'org/name', revision: 'refs/pr/1', subfolder: '' };
    expect(hubFileUrl(ref, 'sub/model.safetensors', 'http://h/')).toBe(
      'http://h/org/name/resolve/refs%2Fpr%2F1/sub/model.safetensors',
    );
  });
});

describe('pickHubLayout', () => {
  const ref = (subfolder = ''): HubRef => ({ repo: 'o/n', revision: 'main', subfolder });
  it('prefers safetensors, as transformers does, and carries config and tokenizer', () => {
    const l = pickHubLayout(
      ['config.json', 'pytorch_model.bin', 'model.safetensors', 'tokenizer.json', 'README.md'],
      ref(),
    );
    expect(l).toMatchObject({ kind: 'model', weights: 'model.safetensors', config: 'config.json' });
    expect(l.tokenizer).toEqual(['tokenizer.json']);
  });
  it('finds a sharded index, an adapter in a subfolder, and refuses an ambiguous folder', () => {
    expect(pickHubLayout(['model.safetensors.index.json', 'a.safetensors'], ref()).weights).toBe(
      'model.safetensors.index.json',
    );
    expect(
      pickHubLayout(['lora/adapter_config.json', 'lora/adapter_model.safetensors'], ref('lora')),
    ).toMatchObject({ kind: 'adapter', weights: 'lora/adapter_model.safetensors' });
    expect(() => pickHubLayout(['a.safetensors', 'b.safetensors'], ref())).toThrow(/several weight files/);
    expect(() => pickHubLayout(['README.md'], ref())).toThrow(/no weight file/);
  });
});

describe('openHubCheckpoint', () => {
  let hub: HubServer;
  const task = async (name: string): Promise<Uint8Array> => new Uint8Array(await readFile(`${ZOO}/${name}`));
  beforeAll(async () => {
    hub = await startHubServer({
      'zoo/base': {
        'model.safetensors': await task('base.safetensors'),
        'config.json': new TextEncoder().encode('{}'),
      },
      'zoo/plain': { 'model.safetensors': await task('plain.safetensors') },
      'zoo/gated': { 'model.safetensors': await task('noisy.safetensors') },
    });
  });
  afterAll(() => hub.close());

  it('reads the header only, then tensors by range equal to the local file', async () => {
    let fetched = 0;
    const remote = await openHubCheckpoint(
      { repo: 'zoo/base', revision: 'main', subfolder: '' },
      { endpoint: hub.endpoint, onFetched: (n) => (fetched += n) },
    );
    const size = remote.sources[0]?.size ?? 0;
    expect(hub.served.get('zoo/base')).toBeLessThan(size / 100); // < 1 % of the file
    expect(fetched).toBeGreaterThan(0);
    const bytes = await task('base.safetensors');
    const local = await openCheckpoint(bytesSource(bytes, 'base.safetensors'));
    expect([...remote.checkpoint.tensors.keys()]).toEqual([...local.tensors.keys()]);
    for (const [name, entry] of local.tensors) {
      const r = remote.checkpoint.tensors.get(name);
      expect(await r?.data.read(0, entry.byteLength)).toEqual(await entry.data.read(0, entry.byteLength));
    }
    expect(await remote.readText('config.json')).toBe('{}');
    // every file request was pinned to the commit the API answered
    expect(hub.log.filter((l) => l.includes('/resolve/')).every((l) => l.includes(remote.revision))).toBe(
      true,
    );
  }, 60_000);

  it('a gated repo needs the token; the token reaches the Hub and never the CDN', async () => {
    hub.faults.token = 'secret';
    try {
      await expect(
        openHubCheckpoint({ repo: 'zoo/gated', revision: 'main', subfolder: '' }, { endpoint: hub.endpoint }),
      ).rejects.toSatisfy((e) => isFormatError(e, 'missing-file') && /access token/.test(String(e)));
      hub.log.length = 0;
      const remote = await openHubCheckpoint(
        { repo: 'zoo/gated', revision: 'main', subfolder: '' },
        { endpoint: hub.endpoint, token: 'secret' },
      );
      expect(remote.checkpoint.tensors.size).toBeGreaterThan(0);
      expect(hub.log.some((l) => l.startsWith('hub') && l.endsWith('auth'))).toBe(true);
      expect(hub.log.filter((l) => l.startsWith('cdn')).every((l) => !l.endsWith('auth'))).toBe(true);
    } finally {
      delete hub.faults.token;
    }
  });

  it('a file pushed mid-read is refused, not mixed', async () => {
    const remote = await openHubCheckpoint(
      { repo: 'zoo/plain', revision: 'main', subfolder: '' },
      { endpoint: hub.endpoint },
    );
    hub.replace('zoo/plain', 'model.safetensors', await task('noisy.safetensors'));
    const entry = [...remote.checkpoint.tensors.values()].at(-1);
    await expect(entry?.data.read(0, entry.byteLength)).rejects.toSatisfy((e) => isFormatError(e, 'changed'));
  });

  it('names the repo when it does not exist', async () => {
    await expect(
      openHubCheckpoint({ repo: 'zoo/nope', revision: 'main', subfolder: '' }, { endpoint: hub.endpoint }),
    ).rejects.toThrow(/zoo\/nope: no such repository/);
  });
});
