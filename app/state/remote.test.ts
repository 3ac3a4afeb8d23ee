import { describe, expect, it } from 'vitest';
import { HUB_FILE_ORIGINS, initialRemote, originsFor, RemoteAddressError, withOrigins } from './remote';

describe('the origins a remote input needs', () => {
  it('a repo by name needs the Hub and its file servers; a URL elsewhere, its own origin only', () => {
    const hub = originsFor('org/name@v1/sub', initialRemote).map((o) => o.origin);
    expect(hub).toEqual(['https://huggingface.co', ...HUB_FILE_ORIGINS]);
    expect(originsFor('https://huggingface.co/org/name', initialRemote).map((o) => o.origin)).toEqual(hub);
    expect(originsFor('hf://org/name', initialRemote).map((o) => o.origin)).toEqual(hub);
    expect(originsFor('https://models.example.org:8443/a/b.safetensors', initialRemote)).toEqual([
      { origin: 'https://models.example.org:8443', why: 'added address' },
    ]);
    const local = { endpoint: 'http://127.0.0.1:9000/', fileOrigins: ['http://127.0.0.1:9001'] };
    expect(originsFor('zoo/base', local).map((o) => o.origin)).toEqual([
      'http://127.0.0.1:9000',
      'http://127.0.0.1:9001',
    ]);
  });

  it('refuses what is not an http(s) address', () => {
    expect(() => originsFor('ftp://host/x', initialRemote)).toThrow(RemoteAddressError);
    expect(() => originsFor('org/name', { ...initialRemote, endpoint: 'nowhere' })).toThrow(/Hub address/);
    expect(() => originsFor('org/name', { ...initialRemote, fileOrigins: ['cdn'] })).toThrow(/file server/);
  });

  it('admits each origin once, in the order added', () => {
    const a = withOrigins(initialRemote, originsFor('https://a.example/x.safetensors', initialRemote));
    const b = withOrigins(a, originsFor('https://a.example/y.safetensors', initialRemote));
    expect(b).toBe(a);
    expect(
      withOrigins(b, [{ origin: 'https://b.example', why: 'added address' }]).origins.map((o) => o.origin),
    ).toEqual(['https://a.example', 'https://b.example']);
  });
});
