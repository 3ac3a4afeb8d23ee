// The worker policy for remote checkpoints: widened only for a worker script, only by bare http(s)
// origins; anything that could smuggle a source or a directive into the header leaves it at 'self'.
import { describe, expect, it } from 'vitest';
import { CSP_HEADER, policyFor, workerConnectOrigins, workerPolicy } from './csp';

const worker = (url: string) => ({ url, headers: { 'sec-fetch-dest': 'worker' } });

describe('the studio worker policy (connect-src for added origins)', () => {
  it('admits exactly the listed origins for a worker script', () => {
    const q = `connect=${encodeURIComponent('https://huggingface.co,http://127.0.0.1:9000')}`;
    expect(workerConnectOrigins(q)).toEqual(['https://huggingface.co', 'http://127.0.0.1:9000']);
    const policy = policyFor(worker(`/assets/studio.worker-abc.js?${q}`));
    expect(policy).toContain("connect-src 'self' https://huggingface.co http://127.0.0.1:9000;");
    expect(policy).toBe(workerPolicy(['https://huggingface.co', 'http://127.0.0.1:9000']));
    // Everything else of the policy is the page's.
    expect(policy.replace(/connect-src [^;]*/, '')).toBe(CSP_HEADER.replace(/connect-src [^;]*/, ''));
  });

  it('keeps self for a document, a script without the list, or anything but bare origins', () => {
    const q = `connect=${encodeURIComponent('https://huggingface.co')}`;
    expect(policyFor({ url: `/?${q}`, headers: { 'sec-fetch-dest': 'document' } })).toBe(CSP_HEADER);
    expect(policyFor(worker('/assets/studio.worker-abc.js'))).toBe(CSP_HEADER);
    for (const bad of [
      'https://huggingface.co/path',
      'https://*.hf.co',
      "https://a.co; script-src 'unsafe-eval'",
      'https://a.co https://b.co',
      'javascript:alert(1)',
      'data:',
      "'unsafe-inline'",
      'https://user@a.co',
      '',
    ]) {
      const search = `connect=${encodeURIComponent(bad)}`;
      expect(workerConnectOrigins(search), bad).toBeUndefined();
      expect(policyFor(worker(`/w.js?${search}`)), bad).toBe(CSP_HEADER);
    }
  });
});
