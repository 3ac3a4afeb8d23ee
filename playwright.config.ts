// e2e: the built studio (vite build + preview) driven in real headless Chromium.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './scripts/chromium.ts';

// PW_PORT and PW_OUT_DIR let two people run e2e side by side in one checkout.
const PORT = Number(process.env['PW_PORT'] ?? 4173);
const OUT_DIR = process.env['PW_OUT_DIR'] ?? 'dist';

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  // Assertions wait for the app's own signal (a test id, a text); the cap only ends a wait that will
  // never succeed. 5 s (the default) lost flows on a loaded 2-core machine where a signal was 6 s late.
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1, // two cores: one browser at a time keeps SwiftShader from starving the server
  retries: process.env['CI'] ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'on-first-retry',
    screenshot: 'only-on-failure',
    video: 'off', // Playwright's ffmpeg is a separate download, not available everywhere
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: `npx vite build --logLevel warn --emptyOutDir --outDir ${OUT_DIR} && npx vite preview --outDir ${OUT_DIR} --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env['CI'],
    timeout: 180_000,
  },
});
