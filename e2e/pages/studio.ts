// Page objects for the studio: one class of locators per panel, and the typed test API.
import type { Locator, Page } from '@playwright/test';
import type { StudioTestApi } from '../../app/test-api';

export class LoadPanel {
  readonly root: Locator;
  readonly loadDemo: Locator;
  readonly loadTextDemo: Locator;
  readonly fileInput: Locator;
  readonly folderInput: Locator;
  readonly checkpoints: Locator;
  readonly alignment: Locator;
  readonly sharedCount: Locator;
  constructor(page: Page) {
    this.root = page.locator('#models');
    this.loadDemo = page.getByRole('button', { name: 'Load demo' });
    this.loadTextDemo = page.getByRole('button', { name: 'Text demo (words-4, LoRA adapters)' });
    this.fileInput = page.getByLabel('Add model files');
    this.folderInput = page.getByLabel('Add a folder of models');
    this.checkpoints = page.getByTestId('checkpoint');
    this.alignment = page.getByTestId('alignment');
    this.sharedCount = page.getByTestId('shared-count');
  }
  card(fileName: string): Locator {
    return this.checkpoints.filter({ has: this.root.page().locator(`[title^="${fileName}"]`) });
  }
  role(fileName: string): Locator {
    return this.root.getByLabel(`Role of ${fileName}`, { exact: true });
  }
}

export class MergePanel {
  readonly root: Locator;
  readonly method: Locator;
  readonly engine: Locator;
  readonly mergeButton: Locator;
  readonly cancelButton: Locator;
  readonly progress: Locator;
  readonly result: Locator;
  readonly notice: Locator;
  constructor(page: Page) {
    this.root = page.locator('#merge');
    this.method = this.root.getByLabel('Method', { exact: true });
    this.engine = page.getByTestId('engine-select');
    this.mergeButton = this.root.getByRole('button', { name: 'Merge', exact: true });
    this.cancelButton = this.root.getByRole('button', { name: 'Cancel' });
    this.progress = page.getByTestId('merge-progress');
    this.result = page.getByTestId('merge-result');
    this.notice = page.getByTestId('merge-notice');
  }
}

export class InspectPanel {
  readonly root: Locator;
  readonly rescalers: Locator;
  readonly heatmap: Locator;
  readonly heatmapDetails: Locator;
  readonly viewer: Locator;
  readonly viewerCanvases: Locator;
  readonly storage: Locator;
  readonly depthChart: Locator;
  readonly histogramChart: Locator;
  constructor(page: Page) {
    this.root = page.locator('#inspect');
    this.rescalers = page.getByTestId('rescalers');
    this.heatmap = page.getByTestId('heatmap');
    this.heatmapDetails = page.getByTestId('heatmap-details');
    this.viewer = page.getByTestId('mask-viewer');
    this.viewerCanvases = this.viewer.locator('canvas');
    this.storage = page.getByTestId('storage');
    this.depthChart = page.getByTestId('depth-chart');
    this.histogramChart = page.getByTestId('histogram-chart');
  }
  /** λ per task as the page shows it (the exact value rides on a data attribute). */
  async lambdas(): Promise<Record<string, number>> {
    const rows = await this.rescalers.locator('tbody tr').all();
    const out: Record<string, number> = {};
    for (const r of rows)
      out[(await r.getAttribute('data-task')) ?? ''] = Number(await r.getAttribute('data-lambda'));
    return out;
  }
}

export class ExportPanel {
  readonly root: Locator;
  constructor(readonly page: Page) {
    this.root = page.locator('#export');
  }
  button(label: string | RegExp): Locator {
    return this.root.getByRole('button', { name: label });
  }
  status(key: string): Locator {
    return this.page.getByTestId(`export-${key}`);
  }
}

export class InferPanel {
  readonly root: Locator;
  readonly setup: Locator;
  readonly task: Locator;
  readonly provider: Locator;
  readonly outputs: Locator;
  readonly routing: Locator;
  readonly caption: Locator;
  readonly pad: Locator;
  constructor(readonly page: Page) {
    this.root = page.locator('#infer');
    this.setup = page.getByTestId('infer-setup');
    this.task = this.root.getByLabel('Task to run');
    this.provider = this.root.getByLabel('Execution provider');
    this.outputs = page.getByTestId('infer-outputs');
    this.routing = page.getByTestId('routing');
    this.caption = page.getByTestId('input-caption');
    this.pad = page.getByTestId('drawing-pad');
  }
  source(label: string): Locator {
    return this.root.getByRole('radio', { name: label });
  }
  /**
   * Draws a "1" on the pad: one vertical stroke down the middle. The pad appears below the source
   * buttons, and a box measured where it first lands can lie past the viewport's edge (the press
   * then missed it, once in a full run): it is scrolled wholly into view first, and the press is a
   * hover that waits for it to be still. The pad captures the pointer on the press.
   */
  async drawOne(): Promise<void> {
    await this.pad.scrollIntoViewIfNeeded();
    const size = await this.pad.boundingBox();
    if (!size) throw new Error('no drawing pad');
    await this.pad.hover({ position: { x: size.width / 2, y: size.height * 0.15 } });
    await this.page.mouse.down();
    const box = await this.pad.boundingBox();
    if (!box) throw new Error('the drawing pad went away');
    await this.page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.85, { steps: 12 });
    await this.page.mouse.up();
  }
  /** The text box; for a pair task `second` is the pair's box. */
  textBox(which: 'first' | 'second' = 'first'): Locator {
    return this.root.getByLabel(which === 'second' ? 'Second text' : /^(First text|Text)$/);
  }
  get runText(): Locator {
    return this.root.getByTestId('text-bench').getByRole('button', { name: 'Run' });
  }
  get tokens(): Locator {
    return this.root.getByTestId('token-pieces');
  }
  /** The top class a column shows (its name, as the page writes it). */
  topClass(column: string): Locator {
    return this.column(column).locator('.top-classes li .class-name').first();
  }
  column(column: string): Locator {
    return this.outputs.locator(`[data-column="${column}"]`);
  }
}

export class EvalPanel {
  readonly root: Locator;
  readonly run: Locator;
  readonly cancel: Locator;
  readonly table: Locator;
  readonly report: Locator;
  readonly notice: Locator;
  constructor(readonly page: Page) {
    this.root = page.locator('#evaluate');
    this.run = this.root.getByRole('button', { name: /^Evaluate on/ });
    this.cancel = this.root.getByRole('button', { name: 'Cancel' });
    this.table = page.getByTestId('eval-table');
    this.report = page.getByTestId('eval-report');
    this.notice = page.getByTestId('eval-notice');
  }
  /** The router's share of right picks per task (exact values from data attributes). */
  async picked(): Promise<number[]> {
    const cells = await this.table.locator('tr.router-row td[data-picked]').all();
    return Promise.all(cells.map(async (c) => Number(await c.getAttribute('data-picked'))));
  }
  /** The accuracy-vs-storage chart's data table: method → [normalized %, bytes per task, on the frontier]. */
  async paretoRows(): Promise<Record<string, [number, number, boolean]>> {
    const out: Record<string, [number, number, boolean]> = {};
    for (const row of await this.page.getByTestId('pareto-data').locator('tbody tr').all()) {
      const label = (await row.locator('th').textContent()) ?? '';
      const [accuracy, bytes, frontier] = await row.locator('td').allTextContents();
      out[label] = [Number(accuracy), Number.parseFloat(bytes ?? ''), frontier === 'yes'];
    }
    return out;
  }
  /** The table as the page shows it: method → per-task accuracies (exact values from data attributes). */
  async cells(): Promise<Record<string, number[]>> {
    const out: Record<string, number[]> = {};
    for (const row of await this.table.locator('tbody tr[data-method]:not(.router-row)').all()) {
      const method = (await row.getAttribute('data-method')) ?? '';
      const cells = await row.locator('td[data-accuracy]').all();
      const values = await Promise.all(cells.map(async (c) => Number(await c.getAttribute('data-accuracy'))));
      out[method] = values.slice(0, -1); // the last one is the Avg column
    }
    return out;
  }
}

export class StudioPage {
  readonly heading: Locator;
  readonly gpuStatus: Locator;
  readonly load: LoadPanel;
  readonly merge: MergePanel;
  readonly inspect: InspectPanel;
  readonly exports: ExportPanel;
  readonly infer: InferPanel;
  readonly evaluation: EvalPanel;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1 });
    this.gpuStatus = page.getByTestId('gpu-status');
    this.load = new LoadPanel(page);
    this.merge = new MergePanel(page);
    this.inspect = new InspectPanel(page);
    this.exports = new ExportPanel(page);
    this.infer = new InferPanel(page);
    this.evaluation = new EvalPanel(page);
  }

  async open(): Promise<void> {
    await this.page.goto('/');
    await this.page.waitForFunction(() => window.__studio !== undefined);
  }

  /** The adapter name the page reports, or 'none'. */
  async adapter(): Promise<string> {
    return (await this.gpuStatus.getAttribute('data-adapter')) ?? 'none';
  }

  /** Runs a function of the typed test API in the page. */
  api<T>(fn: (api: StudioTestApi) => T | Promise<T>): Promise<T> {
    return this.page.evaluate(async (src) => {
      const api = window.__studio as StudioTestApi;
      return (new Function('api', `return (${src})(api)`) as (a: StudioTestApi) => T)(api);
    }, fn.toString());
  }

  /** Load demo, pick the engine, merge, and wait for the result. */
  async loadDemoAndMerge(engine: 'cpu' | 'gpu'): Promise<void> {
    await this.load.loadDemo.click();
    await this.page.getByTestId('checkpoint').nth(8).waitFor();
    await this.merge.engine.selectOption(engine);
    await this.mergeAndWait();
  }

  /** The text demo (words-4: a base and 4 LoRA adapters): load, pick the engine, merge. */
  async loadTextDemoAndMerge(engine: 'cpu' | 'gpu'): Promise<void> {
    await this.load.loadTextDemo.click();
    await this.page.getByTestId('checkpoint').nth(4).waitFor();
    await this.merge.engine.selectOption(engine);
    await this.mergeAndWait();
  }

  async mergeAndWait(): Promise<void> {
    const before = await this.page.evaluate(
      () => document.querySelector('[data-testid="merge-result"]')?.getAttribute('data-merge-id') ?? null,
    );
    await this.merge.mergeButton.click();
    await this.page.waitForFunction(
      (prev) => {
        const id = document.querySelector('[data-testid="merge-result"]')?.getAttribute('data-merge-id');
        return id !== null && id !== undefined && id !== prev;
      },
      before,
      { timeout: 90_000 },
    );
  }

  async screenshot(name: string, locator?: Locator): Promise<void> {
    const path = `test-results/screenshots/${name}.png`;
    if (locator) await locator.screenshot({ path });
    else await this.page.screenshot({ path, fullPage: true });
  }
}
