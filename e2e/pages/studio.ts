// Page object for the studio: one place that knows how to find things on the page.
import type { Locator, Page } from '@playwright/test';

export class StudioPage {
  readonly heading: Locator;
  readonly gpuStatus: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1 });
    this.gpuStatus = page.getByTestId('gpu-status');
  }

  async open(): Promise<void> {
    await this.page.goto('/');
  }

  /** The adapter name the page reports, or 'none'. */
  async adapter(): Promise<string> {
    return (await this.gpuStatus.getAttribute('data-adapter')) ?? 'none';
  }
}
