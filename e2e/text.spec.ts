// Plan: text inference and the paper's table on the text demo (words-4: a base and 4 LoRA adapters,
// a WordPiece tokenizer, labeled texts), in Chromium on wasm. Text demo → merge the adapters → the
// zoo's graphs, tokenizer and JSONL sets attach → a labeled text sample runs → a typed text (and a
// typed pair) runs under every column with its token pieces shown, and Auto routes it → the page's
// top classes for the typed text equal those of `merge-studio eval` on a one-row set holding that
// text (the CLI merges the same adapters and tokenizes with the tokenizer beside the graph: a
// cell-by-cell oracle) → the evaluation table equals `merge-studio eval --json` (with the pair
// task's set read as CSV there, so JSONL and CSV are held to the same numbers).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { cliEvalTable } from './support/cli';
import { StudioPage } from './pages/studio';

const ZOO = 'public/zoo/words-4';
interface Manifest {
  base: { safetensors: string };
  tasks: {
    id: string;
    onnx: string;
    adapter: string;
    eval: string;
    evalCsv?: string;
    classes: string[];
    pair: boolean;
  }[];
}
const manifest = JSON.parse(await readFile(`${ZOO}/manifest.json`, 'utf8')) as Manifest;

/** The CLI's table on the same base and adapters; `sets` replaces a task's labeled set. */
async function cliTable(extra: readonly string[], sets: ReadonlyMap<string, string> = new Map()) {
  return cliEvalTable([
    '--base',
    `${ZOO}/${manifest.base.safetensors}`,
    ...manifest.tasks.flatMap((t) => [
      '--task',
      `${t.id}=${ZOO}/${t.adapter}`,
      '--graph',
      `${t.id}=${ZOO}/${t.onnx}`,
      '--eval',
      `${t.id}=${sets.get(t.id) ?? `${ZOO}/${t.evalCsv ?? t.eval}`}`,
    ]),
    ...extra,
  ]);
}

/** The class index a column's top row shows. */
async function topIndex(studio: StudioPage, column: string): Promise<number> {
  const li = studio.infer.column(column).locator('.top-classes li').first();
  return Number(await li.getAttribute('data-class'));
}

test('text inference: a labeled sample, a typed text and a typed pair under every column', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadTextDemoAndMerge('cpu');
  const infer = studio.infer;
  await expect(infer.root.getByText('4 of 4 tasks ready')).toBeVisible({ timeout: 30_000 });
  await expect(infer.setup).toContainText('text: input_ids, attention_mask');
  await expect(infer.root.getByTestId('tokenizer')).toContainText('tokenizer.json + tokenizer_config.json');
  await infer.provider.selectOption('wasm');
  const first = manifest.tasks[0] as Manifest['tasks'][number];
  await expect(infer.caption).toContainText(`sample 1 of`);
  await expect(infer.column('emr')).toContainText('wasm', { timeout: 90_000 });
  for (const column of ['individual', 'emr', 'avg', 'ta', 'ties'])
    await expect(infer.column(column).locator('.top-classes li')).not.toHaveCount(0);
  await expect(infer.tokens).toContainText('[CLS]');

  // A typed text on the first task: the token pieces and every column's answer.
  const typed = 'the house is very old and the garden is green';
  await infer.source('Type text').click();
  await expect(infer.textBox()).toHaveValue(/.+/); // the sample's text, to edit from
  await infer.textBox().fill(typed);
  // The outputs on screen are the sample's: marked out of date until the edited text runs.
  await expect(page.getByTestId('infer-stale')).toContainText('Out of date');
  await infer.runText.click();
  await expect(infer.caption).toHaveText('your text');
  await expect(infer.tokens).toContainText('[SEP]', { timeout: 30_000 });
  await expect(page.getByTestId('infer-stale')).toHaveCount(0);
  await expect(infer.root.getByTestId('bench-text')).toContainText(typed);
  const columns = ['individual', 'avg', 'ta', 'ties', 'emr'];
  const shown = new Map<string, number>();
  for (const c of columns) shown.set(c, await topIndex(studio, c));
  await studio.screenshot('20-text', infer.root);
  await infer.root.screenshot({ path: 'test-results/screenshots/text-panel.png' });

  // The oracle: the CLI on a one-row set holding the typed text, labeled with the class the page
  // showed for each column in turn — that column's cell must be 1 exactly when the page was right.
  const dir = await mkdtemp(join(tmpdir(), 'merge-studio-text-'));
  const one = join(dir, `${first.id}-typed.jsonl`);
  await writeFile(one, `${JSON.stringify({ text: typed, label: shown.get('emr') })}\n`);
  const table = await cliTable(['--no-route'], new Map([[first.id, one]]));
  const t = table.tasks.indexOf(first.id);
  for (const row of table.rows) {
    const column = columnOf(row.method);
    expect(row.accuracy[t], `${row.method}: the CLI's class for the typed text is the page's`).toBe(
      shown.get(column) === shown.get('emr') ? 1 : 0,
    );
  }

  // Auto: the typed text goes through every task's EMR model, and the page names the pick.
  await infer.task.selectOption('auto');
  await expect(infer.routing).toContainText('Routed to', { timeout: 30_000 });

  // A pair task: two boxes, the pair's tokens after the first [SEP].
  const pairTask = manifest.tasks.find((x) => x.pair);
  if (!pairTask) throw new Error('words-4 has no pair task');
  await infer.task.selectOption({ label: pairTask.id });
  await infer.source('Type text').click();
  await infer.textBox('first').fill('the house is old');
  await infer.textBox('second').fill('das haus ist alt');
  await infer.runText.click();
  await expect(infer.tokens.locator('code.token', { hasText: '[SEP]' })).toHaveCount(2, { timeout: 30_000 });
  await expect(infer.tokens.locator('code.token').first()).toHaveText('[CLS]');
  expect(errors).toEqual([]);
});

/** The table's row label → the page's column. */
function columnOf(method: string): string {
  if (method === 'Individual') return 'individual';
  if (method.startsWith('EMR')) return 'emr';
  if (method.startsWith('Weight averaging')) return 'avg';
  if (method.startsWith('Task Arithmetic')) return 'ta';
  if (method.startsWith('TIES')) return 'ties';
  throw new Error(`unknown row ${method}`);
}

test('evaluation on the text demo equals the CLI’s table cell for cell', async ({ page }) => {
  test.setTimeout(300_000);
  const reference = cliTable([]);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.loadTextDemoAndMerge('cpu');
  await expect(studio.infer.root.getByText('4 of 4 tasks ready')).toBeVisible({ timeout: 30_000 });
  await studio.infer.provider.selectOption('wasm');
  await studio.evaluation.run.click();
  await expect(studio.evaluation.table).toBeVisible({ timeout: 240_000 });
  await expect(studio.evaluation.report).toContainText('onnxruntime-web (wasm)');
  const shown = await studio.evaluation.cells();
  const cli = await reference;
  expect(Object.keys(shown)).toEqual(cli.rows.map((r) => r.method));
  for (const row of cli.rows) expect(shown[row.method], row.method).toEqual(row.accuracy);
  expect(await studio.evaluation.picked()).toEqual(cli.routing?.picked);
  await studio.screenshot('21-text-evaluate', studio.evaluation.root);
});

test('an image + question graph (digits-qa as your own files): both inputs, and the table equals the CLI’s', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const QA = 'public/zoo/digits-qa';
  const qa = JSON.parse(await readFile(`${QA}/manifest.json`, 'utf8')) as {
    base: { safetensors: string };
    tasks: { id: string; onnx: string; safetensors: string; eval: string }[];
  };
  const reference = cliEvalTable([
    '--base',
    `${QA}/${qa.base.safetensors}`,
    ...qa.tasks.flatMap((t) => [
      '--task',
      `${t.id}=${QA}/${t.safetensors}`,
      '--graph',
      `${t.id}=${QA}/${t.onnx}`,
      '--eval',
      `${t.id}=${QA}/${t.eval}`,
    ]),
    '--methods',
    'emr',
    '--no-route',
  ]);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.fileInput.setInputFiles([
    `${QA}/${qa.base.safetensors}`,
    ...qa.tasks.map((t) => `${QA}/${t.safetensors}`),
  ]);
  await page.getByTestId('checkpoint').nth(qa.tasks.length).waitFor();
  await studio.merge.engine.selectOption('cpu');
  await studio.mergeAndWait();
  const infer = studio.infer;
  for (const t of qa.tasks) {
    await infer.root.getByLabel('Attach to task').selectOption(t.id);
    await infer.root.getByLabel('Add ONNX graph').setInputFiles(`${QA}/${t.onnx}`);
    await expect(infer.setup).toContainText(t.onnx);
    await infer.root.getByLabel('Add labeled set').setInputFiles(`${QA}/${t.eval}`);
    await expect(infer.setup).toContainText(`${t.eval.split('/').pop()} (`);
  }
  await expect(infer.root.getByTestId('tokenizer')).toContainText('add their tokenizer.json');
  await infer.root
    .getByLabel('Add tokenizer')
    .setInputFiles([`${QA}/tokenizer.json`, `${QA}/tokenizer_config.json`]);
  await expect(infer.root.getByText(`${qa.tasks.length} of ${qa.tasks.length} tasks ready`)).toBeVisible();
  await expect(infer.setup).toContainText('text: input_ids, attention_mask');
  await expect(infer.setup).toContainText('+ pixels');
  await infer.provider.selectOption('wasm');

  // A sample of a set with one tensor per input runs as it is.
  await infer.root.getByRole('button', { name: 'Next →' }).click();
  await expect(infer.caption).toContainText('sample 1 of 300');
  await expect(infer.column('emr').locator('.top-classes li')).toHaveCount(2, { timeout: 60_000 });

  // A typed question alone is not enough: the graph also takes the image.
  await infer.source('Type text').click();
  await infer.textBox().fill('is it odd?');
  await infer.runText.click();
  await expect(infer.root.getByRole('alert')).toContainText('also takes pixels');
  // A drawn digit beside the question: both inputs, and the question's tokens.
  await infer.source('Draw').click();
  await infer.drawOne();
  await expect(infer.caption).toHaveText('your drawing');
  await expect(infer.tokens).toContainText('[CLS]', { timeout: 30_000 });
  await expect(infer.column('individual').locator('.top-classes li')).toHaveCount(2);

  for (const label of ['Weight averaging', 'Task Arithmetic', 'TIES-Merging', 'Routed row (no task id)'])
    await studio.evaluation.root.getByLabel(label).uncheck();
  await studio.evaluation.run.click();
  await expect(studio.evaluation.table).toBeVisible({ timeout: 240_000 });
  const shown = await studio.evaluation.cells();
  const cli = await reference;
  expect(Object.keys(shown)).toEqual(cli.rows.map((r) => r.method));
  for (const row of cli.rows) expect(shown[row.method], row.method).toEqual(row.accuracy);
  expect(errors).toEqual([]);
});
