// Plan: Inspect draws the mask heatmap and viewer for TALL masks and T-Switch with the summary's
// densities (every tensor cell, the tasks table, the viewer's caption and legend), with no
// horizontal overflow at 800, 1000 and 1400 px and a clean console (issue #20, item 3).
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { StudioPage } from './pages/studio';
import { consoleErrors } from './support/console';

test('Inspect draws the mask heatmap and viewer for TALL masks and T-Switch, with the summary’s numbers', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  const { heatmap, viewer } = studio.inspect;
  for (const [method, caption, maskLegend, signPane] of [
    [
      'tall_mask',
      'TALL mask keeps',
      'yellow: on (the task takes τ_MTL there) · purple: off',
      'Sign of τ_MTL',
    ],
    ['t_switch', 'its keep bits', 'yellow: kept · purple: dropped', 'Sign bits of plain (where kept)'],
  ] as const) {
    await studio.merge.method.selectOption(method);
    await studio.mergeAndWait();
    const summary = await studio.api((api) => api.merge().result);
    expect(summary?.spec.method).toBe(method);
    const tensors = new Map(summary?.tensors.map((t) => [t.name, t]));
    const tasks = summary?.tasks.map((t) => t.name) ?? [];
    // Every tensor cell shows the summary's density for its tensor and task (block rows aggregate).
    await expect(heatmap.locator('[role="gridcell"]').first()).toBeVisible();
    await expect(studio.inspect.root).toContainText(caption);
    const cells = await heatmap
      .locator('[role="gridcell"]')
      .evaluateAll((els) =>
        els.map((e) => [
          e.getAttribute('data-tensor'),
          e.getAttribute('data-task'),
          e.getAttribute('data-density'),
        ]),
      );
    let checked = 0;
    for (const [tensor, task, density] of cells) {
      const t = tensors.get(tensor ?? '');
      if (!t) continue;
      expect(Number(density), `${tensor} × ${task}`).toBe(t.density[tasks.indexOf(task ?? '')]);
      checked++;
    }
    expect(checked).toBeGreaterThan(tasks.length);
    // Some masks keep part of a tensor: not all 0, not all 1.
    const all = [...tensors.values()].flatMap((t) => t.density);
    expect(all.some((d) => d > 0 && d < 1)).toBe(true);
    // The tasks table reads the same numbers: each task's density, the heatmap's size-weighted mean.
    const numel = [...tensors.values()].reduce((a, t) => a + t.numel, 0);
    for (const [k, task] of tasks.entries()) {
      const weighted = [...tensors.values()].reduce((a, t) => a + (t.density[k] ?? 0) * t.numel, 0) / numel;
      const shown = await studio.inspect.rescalers
        .locator(`tr[data-task="${task}"] td[data-density]`)
        .getAttribute('data-density');
      expect(Number(shown)).toBeCloseTo(weighted, 12);
    }
    // The mask viewer draws the largest tensor for the first task, captioned with its density.
    await expect(studio.inspect.viewerCanvases).toHaveCount(2);
    const largest = [...tensors.values()].sort((a, b) => b.numel - a.numel)[0];
    await expect(viewer.getByLabel('Tensor')).toHaveValue(largest?.name ?? '');
    await expect(viewer.getByTestId('viewer-caption')).toContainText(
      `Density for ${tasks[0]}: ${((largest?.density[0] ?? 0) * 100).toFixed(1)} %.`,
    );
    await expect(viewer.locator('figcaption').nth(1)).toHaveText(signPane);
    await expect(viewer.getByTestId('pane-legend').first()).toHaveText(maskLegend);
    // no sign conflicts: none of these methods elects a sign for all tasks
    await expect(page.getByTestId('conflict-detail')).toHaveCount(0);
    for (const width of [800, 1000, 1400]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await studio.inspect.root.evaluate((el) => el.scrollWidth - el.clientWidth);
      expect({ width, overflow }).toEqual({ width, overflow: 0 });
      const dir = process.env['INSPECT_SHOTS'];
      await studio.inspect.root.screenshot({
        path: dir
          ? join(dir, `inspect-${method}-${width}.png`)
          : test.info().outputPath(`inspect-${method}-${width}.png`),
      });
    }
    await page.setViewportSize({ width: 1280, height: 720 });
  }
  expect(errors).toEqual([]);
});
