// Plan: every method of the table is in the studio's method form, grouped by family; a per-task
// method (TALL masks) and a mergekit method with a typed parameter (DARE TIES, density 0.5) merge
// on the demo, and each task's exported model (and TALL's artefact) is byte for byte the file
// `merge-studio merge --method M` writes for the same inputs; an out-of-range value is refused as
// typed; the form fits the page at 800, 1000 and 1400 px (no horizontal overflow), with a clean
// console throughout. Merging a second method keeps the first: the switcher brings it back, and
// Evaluate offers a row for each. An imported mergekit recipe (per-model gradients, a filter,
// float16) shows as its own card, refuses a model the page lacks by name, merges to the bytes of
// `merge-studio merge recipe.yml`, and its zip carries the recipe's text verbatim. SLERP merges the
// base and one task (the others set to Ignore) to the CLI's bytes, and says before Merge when the
// count of tasks is wrong.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { ANY_METHOD_NAMES, FAMILIES, FAMILY_TITLES, methodsOf } from '../src/merge/method-params';
import { StudioPage } from './pages/studio';
import { consoleErrors } from './support/console';

const ZOO = 'public/zoo/digits-8';

/** `merge-studio merge` on the digits-8 demo's files; the task models' bytes by task name. */
const outs: string[] = [];

async function cliMerge(
  args: readonly string[],
  only?: readonly string[],
): Promise<(task: string) => Promise<Buffer>> {
  const manifest = JSON.parse(await readFile(join(ZOO, 'manifest.json'), 'utf8')) as {
    tasks: { id: string; safetensors: string }[];
  };
  if (only) manifest.tasks = manifest.tasks.filter((t) => only.includes(t.id));
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

/** `merge-studio merge recipe.yml`: the task models' bytes by task name, and the output's other files. */
async function cliRecipe(file: string): Promise<(task: string) => Promise<Buffer>> {
  const out = await mkdtemp(join(tmpdir(), 'methods-e2e-'));
  outs.push(out);
  await promisify(execFile)(
    process.execPath,
    ['bin/merge-studio.js', 'merge', file, '--engine', 'cpu', '--out', out],
    { maxBuffer: 1 << 24 },
  );
  return (name) => readFile(join(out, name.includes('.') ? name : `${name}.safetensors`));
}

/** The recipe the test imports: digits-8's files beside it, mergekit's vocabulary throughout. */
const RECIPE = `merge_method: ties
base_model: base.safetensors
models:
  - model: plain.safetensors
    parameters:
      weight: [0.2, 1]
      density: 0.7
  - model: ge5.safetensors
    parameters:
      weight:
        - filter: mlp
          value: 0.4
        - value: 1
      density: [0.9, 0.3]
  - model: rotated.safetensors
    parameters:
      weight: 0.6
      density: 0.5
parameters:
  normalize: true
dtype: float16
tokenizer_source: base
`;

async function importRecipe(page: Page, name: string, text: string): Promise<void> {
  await page
    .getByLabel('Import mergekit recipe…')
    .setInputFiles({ name, mimeType: 'application/yaml', buffer: Buffer.from(text) });
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

test('SLERP merges the base and one task; with more it says why before Merge', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const studio = new StudioPage(page);
  await studio.open();
  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  const cli = cliMerge(['--method', 'slerp', '--param', 't=0.3'], ['parity']);
  await studio.merge.method.selectOption('slerp');
  await studio.merge.root.getByLabel('t', { exact: true }).fill('0.3');
  // Eight tasks: refused before Merge, in the merge's own words.
  await expect(studio.merge.root).toContainText('exactly one other; the set has 8 other models');
  await expect(studio.merge.mergeButton).toBeDisabled();
  for (const task of ['plain', 'rotated', 'mirrored', 'inverted', 'ge5', 'noisy', 'shifted'])
    await studio.load.role(`${task}.safetensors`).selectOption('ignore');
  await expect(page.getByTestId('one-task')).toBeVisible();
  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('SLERP');
  expect(await exported(studio, 'parity')).toEqual(await (await cli)('parity'));
  // Evaluate compares it with the individual model only: the paper's four need two tasks.
  const rows = studio.evaluation.root.locator('.toolbar');
  await expect(rows.getByRole('checkbox', { name: /^SLERP \(t = 0\.3\)/ })).toBeChecked();
  await expect(rows.getByRole('checkbox', { name: 'Individual', exact: true })).toBeChecked();
  await expect(rows.getByRole('checkbox', { name: 'EMR-Merging', exact: true })).toHaveCount(0);
  await expect(rows.getByRole('checkbox', { name: 'Weight averaging', exact: true })).toHaveCount(0);
  // EMR, chosen again, needs a second task and says so.
  await studio.merge.method.selectOption('emr');
  await expect(studio.merge.root).toContainText('needs at least two tasks; one is loaded.');
  await expect(studio.merge.mergeButton).toBeDisabled();
  expect(errors).toEqual([]);
});

test('an imported mergekit recipe merges to the CLI’s bytes; its zip carries the recipe verbatim', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const errors = consoleErrors(page);
  const dir = await mkdtemp(join(tmpdir(), 'recipe-e2e-'));
  outs.push(dir);
  for (const f of ['base', 'plain', 'ge5', 'rotated'])
    await symlink(resolve(ZOO, `${f}.safetensors`), join(dir, `${f}.safetensors`));
  await writeFile(join(dir, 'recipe.yml'), RECIPE);
  const cli = cliRecipe(join(dir, 'recipe.yml'));
  const studio = new StudioPage(page);
  await studio.open();
  // A typo is the parser's error, naming the key, beside the control; the form stays.
  await importRecipe(page, 'typo.yml', 'merge_method: ties\nbase_model: base\nmodles: [plain]\n');
  await expect(page.getByTestId('recipe-error')).toContainText('typo.yml: unknown key "modles"');
  await expect(studio.merge.method).toBeVisible();

  await studio.load.loadDemo.click();
  await expect(studio.load.checkpoints).toHaveCount(9);
  await studio.merge.engine.selectOption('cpu');
  // A model none of the loaded files is: named, with the names loaded; nothing merges.
  await importRecipe(page, 'elsewhere.yml', RECIPE.replace('ge5.safetensors', 'org/ge6'));
  await expect(page.getByTestId('recipe-error')).toHaveCount(0);
  const match = page.getByTestId('recipe-match');
  await expect(match).toContainText(
    'elsewhere.yml: models[1].model "org/ge6" matches none of the models loaded (',
  );
  await expect(match).toContainText('base, ');
  await expect(studio.merge.mergeButton).toBeDisabled();

  await importRecipe(page, 'recipe.yml', RECIPE);
  await expect(match).toHaveCount(0);
  const card = page.getByTestId('recipe-card');
  await expect(card.getByRole('heading')).toHaveText('mergekit recipe: recipe.yml');
  await expect(page.getByTestId('recipe-method')).toContainText('TIES (mergekit) (per-model parameters');
  const rows = page.getByTestId('recipe-models').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText(
    'plain.safetensorsplain.safetensorsplainweight = [0.2, 1], density = 0.7',
  );
  await expect(rows.nth(1)).toContainText('weight = mlp: 0.4; else: 1, density = [0.9, 0.3]');
  await expect(card).toContainText('F16');
  await expect(card).toContainText('tokenizer_source ignored');
  await expect(page.getByTestId('recipe-left-out')).toContainText('noisy');
  await expect(studio.merge.method).toHaveCount(0); // the card stands in for the form
  for (const width of [800, 1000, 1400]) {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await studio.merge.root.evaluate((el) => el.scrollWidth - el.clientWidth);
    expect({ width, overflow }).toEqual({ width, overflow: 0 });
    const shots = process.env['RECIPE_SHOTS'];
    await studio.merge.root.screenshot({
      path: shots ? join(shots, `recipe-${width}.png`) : test.info().outputPath(`recipe-${width}.png`),
    });
  }

  await studio.mergeAndWait();
  await expect(studio.merge.result).toContainText('TIES (mergekit)');
  await expect(studio.merge.result).toContainText('3 tasks');
  const fromCli = await cli;
  for (const task of ['plain', 'ge5', 'rotated'])
    expect(await exported(studio, task), task).toEqual(await fromCli(task));
  const zip = unzipSync(await exported(studio, /^Everything as one \.zip \(with the recipe/));
  expect(new TextDecoder().decode(zip['mergekit_config.yml'])).toBe(RECIPE);
  expect(Buffer.from(zip['mergekit_config.yml'] ?? [])).toEqual(await fromCli('mergekit_config.yml'));
  expect(Object.keys(zip).sort()).toEqual([
    'ge5.safetensors',
    'mergekit_config.yml',
    'plain.safetensors',
    'rotated.safetensors',
  ]);
  for (const task of ['plain', 'ge5', 'rotated'])
    expect(Buffer.from(zip[`${task}.safetensors`] ?? []), task).toEqual(await fromCli(task));

  // Dropping the recipe brings the form back.
  await card.getByRole('button', { name: /^Drop the recipe/ }).click();
  await expect(studio.merge.method).toBeVisible();
  await expect(card).toHaveCount(0);
  // A recipe dropped on the page (a .yml of its own, beside models or not) is imported the same way.
  await page.evaluate((text) => {
    const data = new DataTransfer();
    data.items.add(new File([text], 'dropped.yml'));
    for (const type of ['dragenter', 'dragover', 'drop'])
      document.body.dispatchEvent(
        new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }),
      );
  }, RECIPE);
  await expect(card.getByRole('heading')).toHaveText('mergekit recipe: dropped.yml');
  await expect(studio.load.checkpoints).toHaveCount(9); // no card, no skipped file for it
  await expect(studio.load.root).not.toContainText('dropped.yml');
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
