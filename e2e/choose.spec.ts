// Plan (issue #20, λ on validation data): TALL masks and Consensus TA merged on the demo at their
// defaults → the Evaluate step lists their λ_t and α as "the default" → "Choose λ on labeled sets"
// runs with progress → the page says which λ_t won per task, the Consensus masks' λ_t and α, and
// the kept results are the chosen ones (the switcher's labels) → Evaluate's rows for them equal, cell
// for cell, `merge-studio eval --methods tall_mask,consensus_ta` on the same zoo and labeled sets,
// whose stderr names the same λ_t and α → screenshots at 800, 1000 and 1400 px, a clean console.
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { AccuracyTable } from '../src/inference/table';
import { StudioPage } from './pages/studio';
import { consoleErrors } from './support/console';

const ZOO = 'public/zoo/digits-8';
const SHOTS = process.env['SELECT_SHOTS'] ?? 'test-results/screenshots';

/** The CLI's table and its stderr lines for the same zoo and labeled sets. */
async function cliEval(): Promise<{ table: AccuracyTable; err: string }> {
  const manifest = JSON.parse(await readFile(`${ZOO}/manifest.json`, 'utf8')) as {
    base: { onnx: string };
    tasks: { id: string; onnx: string; eval: string }[];
  };
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      'bin/merge-studio.js',
      'eval',
      '--base',
      `${ZOO}/${manifest.base.onnx}`,
      ...manifest.tasks.flatMap((t) => [
        '--task',
        `${t.id}=${ZOO}/${t.onnx}`,
        '--eval',
        `${t.id}=${ZOO}/${t.eval}`,
      ]),
      ...['--methods', 'tall_mask,consensus_ta', '--no-route', '--json'],
    ],
    { maxBuffer: 1 << 24 },
  );
  return { table: JSON.parse(stdout) as AccuracyTable, err: stderr };
}

/** The values after the last ': ' of the stderr line that starts with `prefix`. */
function numbersOf(err: string, prefix: string): number[] {
  const line = err.split('\n').find((l) => l.startsWith(`merge-studio: ${prefix}`));
  if (!line) throw new Error(`no line "${prefix}" in:\n${err}`);
  // "plain 0.4, rotated 0.3, …" or "0.4, 0.3, …": each item's last word (task names hold digits: ge5)
  return line
    .slice(line.lastIndexOf(': ') + 2)
    .split(', ')
    .map((item) => Number(item.split(' ').at(-1)));
}

test('λ chosen on the labeled sets in the studio equals the CLI’s eval, λ_t, α and accuracy', async ({
  page,
}) => {
  test.setTimeout(900_000);
  const errors = consoleErrors(page);
  const reference = cliEval();
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await page.getByTestId('checkpoint').nth(8).waitFor();
  await studio.merge.engine.selectOption('cpu');
  await studio.merge.method.selectOption('tall_mask');
  await studio.mergeAndWait();
  await studio.merge.method.selectOption('consensus_ta');
  await studio.mergeAndWait();
  await expect(studio.infer.root.getByText('8 of 8 tasks ready')).toBeVisible({ timeout: 60_000 });
  await studio.infer.provider.selectOption('wasm');

  const panel = page.getByTestId('choose-lambda');
  const choices = panel.getByTestId('choice');
  await expect(choices).toHaveCount(2);
  await expect(panel.locator('li[data-state="default"]')).toHaveCount(3);
  await panel.getByTestId('choose-start').click();
  await expect(page.getByTestId('choose-progress')).toContainText('task models scored', { timeout: 120_000 });
  await expect(panel.locator('li[data-state="chosen"]')).toHaveCount(3, { timeout: 600_000 });
  await expect(page.getByTestId('choose-progress')).toHaveCount(0);
  await expect(panel.getByTestId('choose-start')).toBeDisabled(); // nothing left to choose
  const tall = choices.and(page.locator('[data-method="tall_mask"]'));
  const consensus = choices.and(page.locator('[data-method="consensus_ta"]'));
  await expect(tall).toContainText('λ_t chosen on the labeled sets from {0.2, 0.3, 0.4, 0.5, 0.6}: plain ');
  const lambdas = ((await tall.getAttribute('data-lambdas')) ?? '').split(',').map(Number);
  const maskLambdas = ((await consensus.getAttribute('data-lambdas')) ?? '').split(',').map(Number);
  const alpha = Number(await consensus.getAttribute('data-alpha'));
  // The kept results are the chosen ones: the switcher names their λ.
  await expect(page.getByTestId('result-switcher').locator('option')).toHaveText([
    `TALL masks over Task Arithmetic (λ_t = [${lambdas.join(', ')}])`,
    `Consensus TA (k = 2, mask λ_t = [${maskLambdas.join(', ')}], α = ${alpha})`,
  ]);

  for (const label of [
    'Weight averaging',
    'Task Arithmetic',
    'TIES-Merging',
    'EMR-Merging',
    'Routed row (no task id)',
  ])
    await studio.evaluation.root.getByLabel(label, { exact: true }).uncheck();
  await studio.evaluation.run.click();
  await expect(studio.evaluation.table).toBeVisible({ timeout: 300_000 });
  const shown = await studio.evaluation.cells();

  const cli = await reference;
  expect(numbersOf(cli.err, 'tall_mask: λ_t chosen')).toEqual(lambdas);
  expect(numbersOf(cli.err, "consensus_ta: its TALL masks' λ_t")).toEqual(maskLambdas);
  expect(numbersOf(cli.err, 'consensus_ta: α chosen')).toEqual([alpha]);
  const row = (prefix: string) => cli.table.rows.find((r) => r.method.startsWith(prefix))?.accuracy;
  const mine = (prefix: string) => Object.entries(shown).find(([m]) => m.startsWith(prefix))?.[1];
  expect(Object.keys(shown)).toHaveLength(3);
  for (const prefix of ['Individual', 'TALL masks over Task Arithmetic', 'Consensus TA']) {
    expect(mine(prefix), prefix).toBeDefined();
    expect(mine(prefix), prefix).toEqual(row(prefix));
  }

  await mkdir(SHOTS, { recursive: true });
  for (const width of [800, 1000, 1400]) {
    await page.setViewportSize({ width, height: 900 });
    await panel.scrollIntoViewIfNeeded();
    // What sticks out past the window's right edge (none is expected), by tag, test id or class.
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth <= window.innerWidth
        ? []
        : [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
            .filter((el) => !el.closest('.visually-hidden'))
            .map((el) => `${el.tagName} ${el.getAttribute('data-testid') ?? el.className}`)
            .concat(`scrollWidth ${document.documentElement.scrollWidth}`)
            .slice(0, 8),
    );
    expect(overflow, `horizontal overflow at ${width} px`).toEqual([]);
    await studio.evaluation.root.screenshot({ path: `${SHOTS}/evaluate-chosen-${width}.png` });
  }
  expect(errors).toEqual([]);
});
