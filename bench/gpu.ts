// npm run bench:gpu — the EMR pass on the GPU, in Node through dawn.node (./gpu-page/dawn.ts):
// for N = 2, 8, 32, the GPU engine end to end against the CPU engine, and the elect and
// reconstruction kernels alone against a naive kernel and the device's copyBufferToBuffer
// bandwidth, as one table. A real GPU's Vulkan driver when installed, else SwiftShader; exits 1
// with a message when there is no adapter.
// `npm run bench:gpu -- --chromium` runs the same page (./gpu-page) in headless Chromium instead,
// served from a Vite server on 127.0.0.1 (the system Chromium, the test suite's flags).
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.ts';

if (!process.argv.includes('--chromium')) {
  await import('./gpu-page/dawn.ts');
} else {
  const root = fileURLToPath(new URL('./gpu-page/', import.meta.url));
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const server = await createServer({
    configFile: false,
    root,
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 5199, strictPort: false, fs: { allow: [repo] } },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    if (!url) throw new Error('the Vite server gave no local URL');
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`[page] ${m.text()}`));
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => window.benchResult !== undefined);
    const table = await page.evaluate(() => window.benchResult as Promise<string>);
    console.log(`\n${table}`);
  } finally {
    await browser.close();
    await server.close();
  }
}
