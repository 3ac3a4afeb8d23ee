// Finds the Chromium that every browser test drives, in one place for Vitest and Playwright.
// Order: $CHROMIUM_PATH, Debian's /usr/bin/chromium, then Playwright's own download.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

/** Flags under which headless Chromium gives a WebGPU adapter (SwiftShader when there is no GPU). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function findChromium(): string {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const own = chromium.executablePath();
  if (own && existsSync(own)) return own;
  throw new Error(
    'No Chromium found for the browser tests. Install one: `npx playwright install chromium` ' +
      '(ordinary machine) or `apt-get install chromium` (Debian), or set CHROMIUM_PATH to a Chromium binary. ' +
      '`npm test` also drives Firefox (e2e/firefox.spec.ts): `apt-get install firefox-esr`.',
  );
}
