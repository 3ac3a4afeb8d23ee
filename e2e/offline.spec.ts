// Plan: after one visit the studio works with the network off. The first visit registers the
// service worker (scripts/offline.ts), which precaches the build, onnxruntime-web's .wasm and the
// demo zoos; then the browser goes offline, the page reloads from the cache, the demo loads and
// merges on the CPU engine to the same λ as online, and one task's model runs on wasm.
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';

test('offline: after one visit the studio loads, merges and runs a model with the network off', async ({
  page,
  context,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  // Active means installed, and installing means every file of the precache list was fetched.
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve));
    }
    return registration.active?.state;
  });
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();
  const online = await studio.inspect.lambdas();

  await context.setOffline(true);
  await page.reload();
  await page.waitForFunction(() => window.__studio !== undefined);
  await expect(page.evaluate(() => fetch('/nothing-cached-here').then((r) => r.status))).rejects.toThrow();
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();
  expect(await studio.inspect.lambdas()).toEqual(online);
  // onnxruntime-web's .wasm comes from the cache too: a task's model runs on wasm.
  const infer = studio.infer;
  await expect(infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 60_000 });
  await infer.provider.selectOption('wasm');
  await expect(infer.column('emr')).toContainText('wasm', { timeout: 120_000 });
  await expect(infer.column('emr').locator('.top-classes li')).toHaveCount(3);
  expect(errors).toEqual([]);
});
