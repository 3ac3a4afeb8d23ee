// Plan: the studio's layout at ordinary widths, as a user resizes it. The demo merged (EMR, CPU) →
// at 800, 1000 and 1400 px, and after going from 800 back to 1400, the page never scrolls sideways
// (each time once Chart.js has sized its canvases to their boxes: the charts' own sign they have
// laid out for the width) → the Inspect panel at each width goes to test-results (and to docs/ with
// DOCS_SCREENSHOTS=1) → the mask viewer draws pos_embed [1 × 17 × 64] as the 17 × 64 matrix it
// holds, scaled to the pane → the image preprocessing form keeps its fields inside it, styled, and
// "Next →" stays on one line.
import { stat } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { StudioPage } from './pages/studio';

test.use({ colorScheme: 'dark', viewport: { width: 800, height: 900 } });

/** Waits until every chart canvas has the width of its box, then returns how far the page scrolls sideways. */
async function sidewaysScroll(page: Page): Promise<number> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('.chart > canvas')].every(
      (c) => Math.abs(c.getBoundingClientRect().width - (c.parentElement?.clientWidth ?? 0)) < 1,
    ),
  );
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

async function inspectScreenshot(studio: StudioPage, width: number): Promise<void> {
  await studio.inspect.root.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  const paths = [`test-results/screenshots/inspect-${width}.png`];
  if (process.env['DOCS_SCREENSHOTS'] === '1') paths.push(`docs/inspect-${width}.png`);
  for (const path of paths) {
    await studio.page.screenshot({ path }); // the viewport only: the panel's top, small enough for docs
    expect((await stat(path)).size).toBeLessThan(300_000);
  }
}

test('no sideways scroll at 800, 1000 and 1400 px, nor after resizing 800 → 1400', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  await expect(studio.inspect.depthChart.locator('canvas')).toBeVisible();
  await expect(studio.inspect.histogramChart.locator('canvas')).toBeVisible();
  await expect(studio.inspect.viewerCanvases).toHaveCount(2);

  for (const width of [800, 1000, 1400]) {
    await page.setViewportSize({ width, height: 900 });
    expect(await sidewaysScroll(page), `at ${width} px`).toBeLessThanOrEqual(0);
    await inspectScreenshot(studio, width);
  }
  await page.setViewportSize({ width: 800, height: 900 });
  expect(await sidewaysScroll(page), 'back at 800 px').toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1400, height: 900 });
  expect(await sidewaysScroll(page), 'at 1400 px after 800 px').toBeLessThanOrEqual(0);
});

test('the mask viewer drops unit dimensions and fits small tensors to the pane', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  const viewer = studio.inspect.viewer;
  await viewer.getByLabel('Tensor').selectOption('pos_embed');
  await expect(viewer.getByTestId('viewer-caption')).toContainText('[1 × 17 × 64] shown as 17 × 64');
  const canvas = studio.inspect.viewerCanvases.first();
  await expect(canvas).toHaveJSProperty('width', 64);
  await expect(canvas).toHaveJSProperty('height', 17);
  // Fitted: the 64 columns span the pane's width (scaled up from one pixel per element).
  const [drawn, pane] = await canvas.evaluate((c) => [
    c.getBoundingClientRect().width,
    (c.parentElement as HTMLElement).clientWidth,
  ]);
  expect(Math.abs((drawn as number) - (pane as number))).toBeLessThan(1);
});

test('the image form keeps its fields inside it, styled; "Next →" stays on one line', async ({ page }) => {
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadDemoAndMerge('cpu');
  const infer = studio.infer;
  await expect(infer.caption).toContainText('sample 1 of');
  const heights = await Promise.all(
    ['Next →', 'Random'].map(
      async (name) => (await infer.root.getByRole('button', { name }).boundingBox())?.height,
    ),
  );
  expect(heights[0]).toBe(heights[1]); // "Random" cannot wrap: "Next →" is as tall, on one line

  await infer.source('Image file').click();
  const form = infer.root.getByRole('group', { name: 'Preprocessing' });
  await expect(form).toBeVisible();
  const box = await form.boundingBox();
  for (const field of await form.locator('input, select').all()) {
    const b = await field.boundingBox();
    expect((b?.x ?? 0) + (b?.width ?? 0)).toBeLessThanOrEqual((box?.x ?? 0) + (box?.width ?? 0));
  }
  // Mean and Std are text fields styled like the others; Scale shows its whole value.
  const radius = (label: string) =>
    form.getByLabel(label).evaluate((el) => getComputedStyle(el).borderTopLeftRadius);
  expect(await radius('Mean')).toBe(await radius('Width'));
  expect(await radius('Std')).toBe(await radius('Width'));
  const scale = form.getByLabel('Scale');
  expect(await scale.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  await studio.screenshot('30-image-form', infer.root);
});
