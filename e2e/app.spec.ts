// Plan: the built studio loads in real Chromium, shows its heading, and reports the WebGPU
// adapter it got. The test browser is launched with WebGPU enabled, so "none" is a failure here.
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';

test('the studio loads and reports its WebGPU adapter', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await expect(studio.heading).toHaveText('Merge Studio');
  await expect(studio.gpuStatus).toBeVisible();
  const adapter = await studio.adapter();
  console.log(`studio reports WebGPU adapter: ${adapter}`);
  expect(adapter).not.toBe('none');
  await expect(studio.gpuStatus).toContainText('WebGPU adapter:');
  expect(errors).toEqual([]);
});
