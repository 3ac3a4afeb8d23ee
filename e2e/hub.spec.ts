// Plan: merging three Hub repos by name, with no internet. A local stand-in for the Hub (two
// origins: its API and resolve/, and the CDN it redirects file bytes to; src/formats/testing-hub.ts)
// serves three models of the demo zoo. Until a repo is added the page fetches nothing off its
// origin; with only the Hub admitted, its redirect to the CDN is refused by the policy and the
// dialog says so; "Add from Hugging Face…" admits exactly the Hub and its CDN (listed), the
// alignment report shows after < 1 % of the bytes were fetched, and the EMR merge (CPU engine) of
// the remote repos equals the merge of the same files added locally bit for bit (λ and the bundle's
// SHA-256). The studio worker's policy admits the added origins and refuses a third live server
// (a CSP violation, and the server sees no request); the page's own policy stays 'self'.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page, type Worker } from '@playwright/test';
import { startHubServer, type HubServer } from '../src/formats/testing-hub';
import { StudioPage } from './pages/studio';
import { consoleErrors } from './support/console';

const ZOO = 'public/zoo/digits-8';
const MODELS = ['base', 'plain', 'rotated'] as const;

let hub: HubServer;
let other: Server;
let otherOrigin = '';
let otherHits = 0;

test.beforeAll(async () => {
  const repos: Record<string, Record<string, Uint8Array>> = {};
  for (const m of MODELS)
    repos[`zoo/${m}`] = { 'model.safetensors': new Uint8Array(await readFile(`${ZOO}/${m}.safetensors`)) };
  hub = await startHubServer(repos);
  // A live server the user never added: the policy must stop a fetch before it is sent.
  other = createServer((_req, res) => {
    otherHits++;
    res.writeHead(200, { 'access-control-allow-origin': '*' }).end('reached');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await hub.close();
  await new Promise((resolve) => other.close(resolve));
});

/** λ per task and the SHA-256 of the exported EMR bundle. */
async function mergeAndExport(studio: StudioPage, page: Page) {
  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();
  const lambdas = await studio.inspect.lambdas();
  await studio.api((api) => api.useFileSystemAccess(false));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button('EMR bundle').click(),
  ]);
  const bytes = await readFile((await download.path()) as string);
  return { lambdas, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Runs a fetch inside the studio worker: whether it was sent, and the CSP violation it caused. */
const fetchFromWorker = (worker: Worker, url: string) =>
  worker.evaluate(async (u) => {
    const violation = new Promise<string>((resolve) =>
      self.addEventListener(
        'securitypolicyviolation',
        (e) => resolve(`${e.violatedDirective} ${e.blockedURI}`),
        {
          once: true,
        },
      ),
    );
    const outcome = await fetch(u).then(
      (r) => `sent ${r.status}`,
      () => 'refused',
    );
    return { outcome, violation: outcome === 'refused' ? await violation : '' };
  }, url);

test('three Hub repos by name: headers first, the same bits as local files, only the added origins', async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL as string).origin;
  const errors = consoleErrors(page);
  const foreign: string[] = [];
  page.context().on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin && !['data:', 'blob:'].includes(url.protocol))
      foreign.push(`${r.method()} ${url.origin}`);
  });
  const studio = new StudioPage(page);
  await studio.open();
  await expect(page.getByTestId('remote-origins')).toHaveCount(0);
  expect(foreign, 'nothing leaves before a repo is added').toEqual([]);

  await page.getByRole('button', { name: 'Add from Hugging Face…' }).click();
  const dialog = page.getByTestId('add-remote');
  await dialog.getByText('Hub server').click();
  await dialog.getByLabel('Hub address').fill(hub.endpoint);
  await dialog.getByLabel('Its file servers').fill('');
  const repo = dialog.getByLabel('Repository or address');
  // Without its CDN admitted, the Hub's redirect is refused by the worker's policy, which says so.
  const redirected = `${hub.cdn}/zoo/base/model.safetensors`;
  await repo.fill('zoo/base');
  await dialog.getByRole('button', { name: 'Add' }).click();
  // (Chromium names the URL first asked for, not where its redirect led.)
  await expect(dialog.getByTestId('add-remote-error')).toContainText(
    `${hub.endpoint} redirected the request to an origin not added`,
  );
  expect([...hub.served.values()]).toEqual([]);
  await dialog.getByLabel('Its file servers').fill(hub.cdn);
  for (const m of MODELS) {
    await repo.fill(`zoo/${m}`);
    await dialog.getByLabel(m === 'base' ? 'Base model' : 'Task').check();
    await dialog.getByRole('button', { name: 'Add' }).click();
    await expect(studio.load.card(`hf://zoo/${m}/`)).toContainText('fetched');
  }
  await expect(studio.load.role(MODELS[0])).toHaveValue('base');
  await expect(studio.load.sharedCount).toBeVisible();

  // Headers only: the page's count and the server's agree, under 1 % of the three files.
  const cards = await page.getByTestId('remote-fetched').all();
  let fetched = 0;
  let size = 0;
  for (const c of cards) {
    fetched += Number(await c.getAttribute('data-fetched'));
    size += Number(await c.getAttribute('data-size'));
  }
  const served = [...hub.served.values()].reduce((a, b) => a + b, 0);
  expect(served).toBe(fetched);
  expect(fetched / size).toBeLessThan(0.01);

  // The page lists exactly what it talks to; nothing else was asked for, and only with GETs.
  const listed = page.getByTestId('remote-origins');
  await expect(listed.locator('code')).toHaveText([hub.endpoint, hub.cdn]);
  expect(new Set(foreign)).toEqual(new Set([`GET ${hub.endpoint}`, `GET ${hub.cdn}`]));

  const remote = await mergeAndExport(studio, page);
  expect(Object.keys(remote.lambdas).sort()).toEqual(['plain', 'rotated']);
  // The merge read the tensors by range: now the cards count every byte of the three files.
  await expect
    .poll(async () => Number(await page.getByTestId('remote-fetched').first().getAttribute('data-fetched')))
    .toBeGreaterThan(Number(await cards[0]?.getAttribute('data-size')) * 0.5);

  // The studio worker's policy: the added origins admitted, a third live server refused.
  const worker = page.workers().find((w) => w.url().includes('connect='));
  expect(worker, 'the studio worker runs under the widened policy').toBeDefined();
  const admitted = await fetchFromWorker(worker as Worker, `${hub.endpoint}/api/models/zoo/base`);
  expect(admitted.outcome).toBe('sent 200');
  const blocked = await fetchFromWorker(worker as Worker, `${otherOrigin}/probe`);
  expect(blocked.outcome).toBe('refused');
  expect(blocked.violation).toContain('connect-src');
  expect(otherHits).toBe(0);
  // The page itself never widened its policy: even the Hub is refused from the page's thread.
  const fromPage = await page.evaluate(
    (u) =>
      fetch(u).then(
        () => 'sent',
        () => 'refused',
      ),
    `${hub.endpoint}/api/models/zoo/base`,
  );
  expect(fromPage).toBe('refused');

  // The same files added from disk merge to the same bits.
  await page.getByTestId('clear-all').click();
  await expect(studio.load.checkpoints).toHaveCount(0);
  await studio.load.fileInput.setInputFiles(
    await Promise.all(
      MODELS.map(async (m) => ({
        name: `${m}.safetensors`,
        mimeType: 'application/octet-stream',
        buffer: await readFile(`${ZOO}/${m}.safetensors`),
      })),
    ),
  );
  await expect(studio.load.role('base.safetensors')).toHaveValue('base');
  await expect(studio.load.sharedCount).toBeVisible();
  const local = await mergeAndExport(studio, page);
  expect(local.lambdas).toEqual(remote.lambdas);
  expect(local.sha256).toBe(remote.sha256);

  // The only red lines are the refusals this test provoked on purpose.
  expect(
    errors.filter(
      (e) =>
        !e.includes(otherOrigin) &&
        !e.includes(redirected) &&
        !(e.includes(hub.endpoint) && /Content Security/i.test(e)),
    ),
  ).toEqual([]);
});
