// Finds the Firefox that the second-engine e2e (e2e/firefox.spec.ts) drives through puppeteer-core
// over WebDriver BiDi. Order: $FIREFOX_PATH, Debian's firefox-esr, then any /usr/bin/firefox.
// Missing Firefox fails the tests that need it (never a skip): Chromium alone proves one engine.
import { existsSync } from 'node:fs';

const INSTALL =
  'Install one: `apt-get install firefox-esr` (Debian), or set FIREFOX_PATH to a Firefox binary.';

export function findFirefox(
  candidates: readonly string[] = ['/usr/bin/firefox-esr', '/usr/bin/firefox'],
  fromEnv: string | undefined = process.env['FIREFOX_PATH'],
): string {
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`FIREFOX_PATH=${fromEnv} does not exist. ${INSTALL}`);
    return fromEnv;
  }
  for (const path of candidates) if (existsSync(path)) return path;
  throw new Error(`No Firefox found for the Firefox e2e tests (e2e/firefox.spec.ts). ${INSTALL}`);
}
