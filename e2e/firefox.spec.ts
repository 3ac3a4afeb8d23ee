// Plan: the studio in a second engine. Firefox (Debian's firefox-esr), driven by puppeteer-core
// over WebDriver BiDi, against the same built app Playwright serves: demo load → merge on the CPU
// engine → λ equal to the engine's own merge in Node (which the Chromium e2e and the CLI equal) →
// inspect draws → the bundle and a task model export as downloads (Firefox has no
// showSaveFilePicker: the feature detection picks the download) and are byte-identical to the
// same files written here in Node → the evaluation on wasm equals `merge-studio eval --json` cell
// for cell → no red line in the console. A machine without Firefox fails here, never skips.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { MemorySink } from '../src/formats/sink';
import { writeBundle } from '../src/merge/bundle';
import { CpuEngine } from '../src/merge/cpu/engine';
import { writeTaskSafetensors } from '../src/merge/export';
import { runMerge, type EmrResult } from '../src/merge/merge';
import { methodSpec } from '../src/merge/methods';
import { buildModelSet } from '../src/merge/model-set';
import { findFirefox } from '../scripts/firefox';
import { openFile } from './support/checkpoints';
import { cliEvalTable } from './support/cli';

const ZOO = 'public/zoo/digits-8';
/** Waits end on the app's signal; this cap only ends one that will never come. */
const SIGNAL = { timeout: 240_000 };

interface Manifest {
  base: { safetensors: string; onnx: string };
  tasks: { id: string; safetensors: string; onnx: string; eval: string }[];
}

async function manifest(): Promise<Manifest> {
  return JSON.parse(await readFile(`${ZOO}/manifest.json`, 'utf8')) as Manifest;
}

async function engineMerge(): Promise<EmrResult> {
  const m = await manifest();
  const base = await openFile(`${ZOO}/${m.base.safetensors}`);
  const tasks = await Promise.all(
    m.tasks.map(async (t) => ({ name: t.id, checkpoint: await openFile(`${ZOO}/${t.safetensors}`) })),
  );
  return (await runMerge(buildModelSet(base, tasks), methodSpec('emr'), new CpuEngine())) as EmrResult;
}

/** Clicks the button (under `root`) whose accessible text is `name`, with real input events. */
async function clickButton(page: Page, root: string, name: string | RegExp): Promise<void> {
  const pattern = typeof name === 'string' ? `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$` : name.source;
  const handle = await page.waitForFunction(
    (sel, src) =>
      [...document.querySelectorAll<HTMLButtonElement>(`${sel} button`)].find(
        (b) => !b.disabled && new RegExp(src).test(b.textContent?.trim() ?? ''),
      ) ?? null,
    SIGNAL,
    root,
    pattern,
  );
  const button = handle.asElement() as ElementHandle<HTMLButtonElement> | null;
  if (!button) throw new Error(`no button ${String(name)} in ${root}`);
  await button.click();
}

/** The file Firefox downloaded under `name`, once it is complete (no .part beside it). */
async function downloaded(dir: string, name: string): Promise<Uint8Array> {
  for (;;) {
    const files = await readdir(dir);
    if (files.includes(name) && !files.some((f) => f.endsWith('.part')))
      return new Uint8Array(await readFile(join(dir, name)));
    await new Promise((r) => setTimeout(r, 100));
  }
}

let browser: Browser | undefined;
let downloads = '';

test.beforeAll(async () => {
  const executablePath = findFirefox(); // throws, naming `apt-get install firefox-esr`
  downloads = await mkdtemp(join(tmpdir(), 'merge-studio-firefox-'));
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    extraPrefsFirefox: {
      'browser.download.folderList': 2,
      'browser.download.dir': downloads,
      'browser.download.useDownloadDir': true,
      'browser.download.always_ask_before_handling_new_types': false,
      'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream,application/zip',
    },
  });
});

test.afterAll(async () => {
  await browser?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

test('Firefox: demo, CPU merge, inspect, downloads and wasm evaluation equal the reference', async ({
  baseURL,
}) => {
  test.setTimeout(600_000);
  if (!browser || !baseURL) throw new Error('no Firefox or no server');
  const m = await manifest();
  const cli = cliEvalTable([
    '--base',
    `${ZOO}/${m.base.onnx}`,
    ...m.tasks.flatMap((t) => ['--task', `${t.id}=${ZOO}/${t.onnx}`, '--eval', `${t.id}=${ZOO}/${t.eval}`]),
    '--methods',
    'emr',
    '--no-route',
  ]);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${String(e)}`));
  await page.goto(baseURL);
  await page.waitForFunction(() => window.__studio !== undefined, SIGNAL);
  expect(await browser.version()).toMatch(/firefox/i);

  // Feature detection, not the engine's name: Firefox picks folders through its folder input.
  await page.waitForFunction(
    () => [...document.querySelectorAll('#models button')].some((b) => b.textContent === 'Add a folder…'),
    SIGNAL,
  );

  // Load demo and merge on the CPU engine.
  await clickButton(page, '#models', 'Load demo');
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="checkpoint"]').length === 9,
    SIGNAL,
  );
  await page.select('[data-testid="engine-select"]', 'cpu');
  await clickButton(page, '#merge', 'Merge');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="merge-result"]')?.getAttribute('data-merge-id'),
    SIGNAL,
  );
  const reference = await engineMerge();
  const shown = await page.$$eval('[data-testid="rescalers"] tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-task'), Number(r.getAttribute('data-lambda'))])),
  );
  expect(Object.keys(shown)).toEqual(reference.set.tasks.map((t) => t.name));
  reference.set.tasks.forEach((t, i) => expect(shown[t.name]).toBe(reference.lambdas[i]));

  // Inspect draws: the heatmap's cells, the mask viewer's two canvases.
  await page.waitForSelector('[data-testid="heatmap"] [role="gridcell"]', SIGNAL);
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="mask-viewer"] canvas').length === 2,
    SIGNAL,
  );

  // Exports as downloads, byte for byte the files the same merge writes in Node.
  expect(
    await page.evaluate(() => typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker),
  ).toBe('undefined');
  const bundle = new MemorySink('emr-bundle.safetensors');
  await writeBundle(reference, bundle);
  await clickButton(page, '#export', /^EMR bundle/); // its label, then its file name and size
  expect(await downloaded(downloads, 'emr-bundle.safetensors')).toEqual(bundle.bytes());
  const first = reference.set.tasks[0]?.name as string;
  const task = new MemorySink(`${first}.safetensors`);
  await writeTaskSafetensors(reference, 0, new CpuEngine(), task);
  await clickButton(page, '#export', new RegExp(`^${first} \\(`));
  expect(await downloaded(downloads, `${first}.safetensors`)).toEqual(task.bytes());
  // Both were staged in the origin-private file system, not collected in memory.
  const staged = await page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('exports');
    const names: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names;
  });
  expect(staged.filter((n) => n.endsWith('-bundle') || n.endsWith(`-${first}`))).toHaveLength(2);

  // The evaluation on wasm: the individual and EMR rows on the zoo's whole sets, as the CLI's.
  await page.waitForFunction(
    () => document.querySelector('#infer')?.textContent?.includes('8 of 8 tasks ready'),
    SIGNAL,
  );
  await page.select('#infer select[aria-label="Execution provider"]', 'wasm');
  for (const label of ['Weight averaging', 'Task Arithmetic', 'TIES-Merging', 'Routed row (no task id)'])
    await page.$$eval(
      '#evaluate label',
      (labels, text) => {
        const box = labels
          .find((l) => l.textContent?.trim() === text)
          ?.querySelector<HTMLInputElement>('input[type="checkbox"]');
        if (box?.checked) box.click();
      },
      label,
    );
  await clickButton(page, '#evaluate', 'Evaluate on wasm');
  await page.waitForSelector('[data-testid="eval-report"]', SIGNAL);
  expect(await page.$eval('[data-testid="eval-report"]', (e) => e.textContent)).toContain(
    'onnxruntime-web (wasm)',
  );
  const cells = await page.$$eval(
    '[data-testid="eval-table"] tbody tr[data-method]:not(.router-row)',
    (rows) =>
      Object.fromEntries(
        rows.map((r) => [
          r.getAttribute('data-method'),
          [...r.querySelectorAll('td[data-accuracy]')]
            .map((c) => Number(c.getAttribute('data-accuracy')))
            .slice(0, -1),
        ]),
      ),
  );
  const table = await cli;
  expect(Object.keys(cells)).toEqual(table.rows.map((r) => r.method));
  for (const row of table.rows) expect(cells[row.method], row.method).toEqual(row.accuracy);
  expect(errors).toEqual([]);
  await page.close();
});
