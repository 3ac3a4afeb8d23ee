// A normal session prints no red line: every `error`-level console message and uncaught page error
// is collected, and the flows that use this end by expecting none.
import type { Page } from '@playwright/test';

export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return errors;
}
