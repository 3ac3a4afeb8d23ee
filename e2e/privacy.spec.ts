// Plan: nothing leaves the machine. Every request the page and its workers make during a full demo
// flow — Load demo, merge on the CPU engine, merge on the GPU engine, inspect, run each method's
// model in onnxruntime-web (WebGPU and wasm), export the bundle —
// is recorded, and any to another origin fails the test (data: and blob: URLs never leave the
// process). The built page carries the Content-Security-Policy of scripts/csp.ts, and any
// violation of it (a securitypolicyviolation event in the page or a "Content Security Policy"
// console message from the page or a worker) fails the test too: the policy is exactly what the
// studio needs, no more. ONNX files, whose protobuf decoding once needed eval, open and merge under
// it too; and a fetch to another host is refused, so the checks above are live.
import { readFile } from 'node:fs/promises';
import { expect, test, type ConsoleMessage, type Page, type Request } from '@playwright/test';
import { CSP_HEADER, CSP_META } from '../scripts/csp';
import { StudioPage } from './pages/studio';
import { openBytes } from './support/checkpoints';

const LOCAL_SCHEMES = new Set(['data:', 'blob:']);

/** Collects requests, CSP violations and page errors from the moment the page is created. */
async function watch(page: Page, origin: string) {
  const requests: string[] = [];
  const foreign: string[] = [];
  const violations: string[] = [];
  const errors: string[] = [];
  const onRequest = (r: Request) => {
    const url = new URL(r.url());
    requests.push(r.url());
    if (!LOCAL_SCHEMES.has(url.protocol) && url.origin !== origin) foreign.push(r.url());
  };
  const onConsole = (m: ConsoleMessage) => {
    if (/content security policy/i.test(m.text())) violations.push(`console: ${m.text()}`);
  };
  page.context().on('request', onRequest);
  page.on('console', onConsole);
  page.on('worker', (w) =>
    w.on('console', (m) => {
      if (/content security policy/i.test(m.text())) violations.push(`worker ${w.url()}: ${m.text()}`);
    }),
  );
  page.on('websocket', (ws) => foreign.push(ws.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  // Runs before the app's own scripts (through the debugger, so the policy does not apply to it).
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(
        `${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`,
      ),
    );
  });
  return {
    requests,
    foreign,
    errors,
    violations: async () => [
      ...violations,
      ...(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)),
    ],
  };
}

test('a full demo flow makes no request beyond its own origin and breaks no CSP rule', async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL as string).origin;
  const seen = await watch(page, origin);
  const studio = new StudioPage(page);
  const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/');
  await studio.open();
  // `vite preview` sends it as a header too, so workers (which a <meta> does not reach) get it.
  expect((await response).headers()['content-security-policy']).toBe(CSP_HEADER);

  // The policy is in the built page, first in <head>, before any script.
  const meta = page.locator('meta[http-equiv="Content-Security-Policy"]');
  await expect(meta).toHaveAttribute('content', CSP_META);
  expect(await page.evaluate(() => document.head.firstElementChild?.getAttribute('http-equiv') ?? null)).toBe(
    'Content-Security-Policy',
  );

  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);

  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('EMR-Merging');
  await expect(studio.merge.result).toContainText('CPU');

  await studio.merge.engine.selectOption('gpu');
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('GPU');

  await expect(studio.inspect.heatmap.locator('[role="gridcell"]').first()).toBeVisible();
  await studio.inspect.heatmap.locator('[role="gridcell"]').nth(3).hover();
  await expect(studio.inspect.heatmapDetails).toContainText('density');
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);
  await expect(studio.inspect.depthChart.locator('canvas')).toBeVisible();
  // Drawn after a pass over τ_uni and the tasks' samples, in the studio worker that also compiles and
  // runs the first onnxruntime session (step 4 runs a sample at once, on wasm on a software adapter).
  await expect(studio.inspect.histogramChart.locator('canvas')).toBeVisible({ timeout: 90_000 });

  // onnxruntime-web in the studio worker: its .wasm comes from the app itself, under the policy;
  // the zoo's graphs and labeled sets attach, and every method's model runs a sample.
  await expect(studio.infer.column('emr').locator('.top-classes li')).toHaveCount(3, { timeout: 90_000 });
  await studio.infer.provider.selectOption('wasm');
  await expect(studio.infer.column('emr')).toContainText('wasm', { timeout: 90_000 });

  // Exports as a download (no save-file picker headless).
  await studio.api((api) => api.useFileSystemAccess(false));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    studio.exports.button('EMR bundle').click(),
  ]);
  const bundle = await openBytes(
    new Uint8Array(await readFile((await download.path()) as string)),
    'emr-bundle.safetensors',
  );
  expect(bundle.metadata.get('format')).toBe('merge-studio/emr-bundle');

  expect(seen.requests.length).toBeGreaterThan(0);
  expect(seen.foreign, 'requests to other hosts').toEqual([]);
  expect(await seen.violations(), 'Content-Security-Policy violations').toEqual([]);
  expect(seen.errors, 'page errors').toEqual([]);
});

test('the policy is enforced: a fetch to another host is refused before it leaves', async ({
  page,
  baseURL,
}) => {
  const seen = await watch(page, new URL(baseURL as string).origin);
  const studio = new StudioPage(page);
  await studio.open();
  // 192.0.2.1 is TEST-NET-1: nothing answers there, so only the policy can refuse it at once.
  const outcome = await page.evaluate(() =>
    fetch('http://192.0.2.1/', { signal: AbortSignal.timeout(5000) }).then(
      () => 'sent',
      (e: unknown) => (e instanceof DOMException && e.name === 'TimeoutError' ? 'timed out' : 'refused'),
    ),
  );
  expect(outcome).toBe('refused');
  expect((await seen.violations()).join('\n')).toContain('connect-src');
});

test('ONNX files open and merge under the policy (their protobuf decoding needs no eval)', async ({
  page,
  baseURL,
}) => {
  const seen = await watch(page, new URL(baseURL as string).origin);
  const studio = new StudioPage(page);
  await studio.open();
  const zoo = 'public/zoo/digits-8';
  await studio.load.fileInput.setInputFiles(
    await Promise.all(
      ['base.onnx', 'plain.onnx', 'rotated.onnx'].map(async (name) => ({
        name,
        mimeType: 'application/octet-stream',
        buffer: await readFile(`${zoo}/${name}`),
      })),
    ),
  );
  await expect(studio.load.checkpoints).toHaveCount(3);
  await expect(studio.load.role('base.onnx')).toHaveValue('base');
  await expect(page.getByTestId('file-error')).toHaveCount(0);
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('EMR-Merging');
  expect(seen.foreign, 'requests to other hosts').toEqual([]);
  expect(await seen.violations(), 'Content-Security-Policy violations').toEqual([]);
  expect(seen.errors, 'page errors').toEqual([]);
});
