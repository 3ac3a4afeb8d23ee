// Plan: every method of the table is in the studio's method form, grouped by family; a per-task
// method (TALL masks) and a mergekit method with a typed parameter (DARE TIES, density 0.5) merge
// on the demo, and each task's exported model (and TALL's artefact) is byte for byte the file
// `merge-studio merge --method M` writes for the same inputs; an out-of-range value is refused as
// typed; the form fits the page at 800, 1000 and 1400 px (no horizontal overflow), with a clean
// console throughout. Merging a second method keeps the first: the switcher brings it back, and
// Evaluate offers a row for each. Inspect draws the mask heatmap and viewer for TALL masks and
// T-Switch with the summary's densities (cells, tasks table, viewer caption), at three widths.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { ANY_METHOD_NAMES, FAMILIES, FAMILY_TITLES, methodsOf } from '../src/merge/method-params';
import { StudioPage } from './pages/studio';
import { consoleErrors } from './support/console';

const ZOO = 'public/zoo/digits-8';

/** `merge-studio merge` on the digits-8 demo's files; the task models' bytes by task name. */
const outs: string[] = [];

async function cliMerge(args: readonly string[]): Promise<(task: string) => Promise<Buffer>> {
  const manifest = JSON.parse(await readFile(join(ZOO, 'manifest.json'), 'utf8')) as {
    tasks: { id: string; safetensors: string }[];
  };
  const out = await mkdtemp(join(tmpdir(), 'methods-e2e-'));
  await promisify(execFile)(
    process.execPath,
    [
      'bin/merge-studio.js',
      'merge',
      '--base',
      join(ZOO, 'base.safetensors'),
      ...manifest.tasks.flatMap((t) => ['--task', `${t.id}=${join(ZOO, t.safetensors)}`]),
      '--engine',
      'cpu',
      '--out',
      out,
      ...args,
    ],
    { maxBuffer: 1 << 24 },
  );
  outs.push(out);
  return (file) => readFile(join(out, file.includes('.') ? file : `${file}.safetensors`));
}

async function exported(studio: StudioPage, item: string | RegExp): Promise<Buffer> {
  await studio.api((api) => api.useFileSystemAccess(false));
  const [download] = await Promise.all([
    studio.page.waitForEvent('download'),
    studio.exports.button(typeof item === 'string' ? new RegExp(`^${item}`) : item).click(),
  ]);
  return readFile((await download.path()) as string);
}

test('every method is offered; per-task and mergekit exports equal the CLI’s bytes', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  const options = await studio.merge.method
    .locator('option')
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(options.sort()).toEqual([...ANY_METHOD_NAMES].sort());
  for (const f of FAMILIES)
    await expect(studio.merge.method.locator(`optgroup[label="${FAMILY_TITLES[f]}"] option`)).toHaveCount(
      methodsOf(f).length,
    );

  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');

  // TALL masks: one model per task, from its artefact.
  const tallCli = cliMerge(['--method', 'tall_mask']);
  await studio.merge.method.selectOption('tall_mask');
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('TALL masks over Task Arithmetic');
  await expect(studio.inspect.rescalers.locator('tbody tr td[data-density]')).toHaveCount(8);
  await expect(page.getByTestId('bytes-per-task')).toBeVisible();
  const fromCli = await tallCli;
  for (const task of ['plain', 'ge5']) expect(await exported(studio, task)).toEqual(await fromCli(task));
  // the artefact the task models are rebuilt from (`merge-studio apply`), as the CLI writes it
  expect(await exported(studio, /artefact/)).toEqual(await fromCli('tall_mask-artefact.safetensors'));

  // DARE TIES with a density typed in the form; a density past 1 is refused as typed.
  const dareCli = cliMerge(['--method', 'dare_ties', '--param', 'density=0.5']);
  await studio.merge.method.selectOption('dare_ties');
  const density = studio.merge.root.getByLabel('density', { exact: true });
  await density.fill('1.5');
  await expect(studio.merge.root.getByRole('alert')).toHaveText('density must be at least 0 and at most 1.');
  await expect(studio.merge.mergeButton).toBeDisabled();
  await density.fill('0.5');
  await expect(studio.merge.root.getByRole('alert')).toHaveCount(0);
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('DARE TIES (density = 0.5');
  expect(await exported(studio, 'rotated')).toEqual(await (await dareCli)('rotated'));

  // Both results are kept (one per method); the switcher puts TALL masks back on screen.
  const switcher = page.getByTestId('result-switcher');
  await expect(switcher.locator('option')).toHaveCount(2);
  await switcher.selectOption({ label: 'TALL masks over Task Arithmetic (λ_t = 1)' });
  await expect(studio.merge.result).toContainText('TALL masks over Task Arithmetic');
  await expect(studio.inspect.rescalers.locator('tbody tr td[data-density]')).toHaveCount(8);
  expect(await exported(studio, 'plain')).toEqual(await fromCli('plain'));
  // Evaluate offers a row for each method merged (both kept), beside the paper's four.
  const rows = studio.evaluation.root.locator('.toolbar');
  await expect(rows.getByRole('checkbox', { name: /^TALL masks over Task Arithmetic/ })).toBeChecked();
  await expect(rows.getByRole('checkbox', { name: /^DARE TIES \(density = 0\.5/ })).toBeChecked();
  await expect(rows.getByRole('checkbox', { name: 'EMR-Merging', exact: true })).toBeChecked();
  expect(errors).toEqual([]);
});

test('TSV-C in the studio: its task models and low-rank artefact equal the CLI’s bytes', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  const cli = cliMerge(['--method', 'tsv_c']);
  await studio.merge.method.selectOption('tsv_c');
  // sv_reduction left empty: 1/N, as the CLI without --param.
  await expect(studio.merge.root.getByLabel('rank fraction kept')).toHaveValue('');
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('TSV-C');
  // Inspect: rank and energy kept per 2-D weight (digits-8's are at most 64 wide: 8 of 64 for N = 8).
  const lowRank = page.getByTestId('lowrank');
  await expect(lowRank.locator('tbody tr').first()).toBeVisible();
  for (const row of await lowRank.locator('tbody tr').all()) {
    const [shape, rank] = await row.locator('td').allTextContents();
    const dims = (shape ?? '').replace(/[[\]]/g, '').split(' × ').map(Number);
    expect(rank).toBe(`${Math.floor(Math.min(...dims) / 8)} of ${Math.min(...dims)}`);
  }
  const fromCli = await cli;
  for (const task of ['mirrored', 'shifted'])
    expect(await exported(studio, task)).toEqual(await fromCli(task));
  expect(await exported(studio, /artefact/)).toEqual(await fromCli('tsv_c-artefact.safetensors'));
  expect(errors).toEqual([]);
});

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

test('the method form fits the page at 800, 1000 and 1400 px', async ({ page }) => {
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  for (const [width, method] of [
    [800, 'della'],
    [1000, 'iso_cts'],
    [1400, 'tall_mask'],
  ] as const) {
    await page.setViewportSize({ width, height: 900 });
    await studio.merge.method.selectOption(method);
    const overflow = await studio.merge.root.evaluate((el) => el.scrollWidth - el.clientWidth);
    expect({ width, overflow }).toEqual({ width, overflow: 0 });
    const dir = process.env['FORM_SHOTS'];
    await studio.merge.root.screenshot({
      path: dir ? join(dir, `merge-form-${width}.png`) : test.info().outputPath(`merge-form-${width}.png`),
    });
  }
  expect(errors).toEqual([]);
});

test.afterAll(async () => {
  // The CLI's output folders are temporary.
  for (const out of outs.splice(0)) await rm(out, { recursive: true, force: true });
});
