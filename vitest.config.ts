// Three places tests run: pure TypeScript in Node (unit), GPU kernels in Node through dawn.node
// (gpu-node), and everything that needs the real page, GPU kernels included, in headless
// Chromium (browser). `*.gpu.test.ts` files run in BOTH GPU projects: the same kernels, two runtimes.
import { defineConfig, mergeConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, findChromium } from './scripts/chromium.ts';
import viteConfig from './vite.config.ts';

const browserProject =
  process.env['VITEST_NO_BROWSER'] === '1'
    ? []
    : [
        {
          extends: true as const,
          test: {
            name: 'browser',
            include: ['src/**/*.gpu.test.ts', 'src/**/*.browser.test.ts', 'app/**/*.browser.test.{ts,tsx}'],
            exclude: ['src/cli/**', 'node_modules/**'], // the CLI's GPU tests drive dawn.node, in Node only
            testTimeout: 120_000,
            browser: {
              enabled: true,
              headless: true,
              provider: playwright({
                launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
              }),
              instances: [{ browser: 'chromium' as const }],
              api: { host: '127.0.0.1' },
            },
          },
        },
      ];

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            environment: 'node',
            include: [
              'src/**/*.test.ts',
              'app/**/*.test.{ts,tsx}',
              'scripts/**/*.test.ts',
              'tools/**/*.test.ts',
            ],
            exclude: ['**/*.gpu.test.ts', '**/*.browser.test.{ts,tsx}', 'node_modules/**'],
            // vitest's default (5 s) is a clock: a test of 1–2 s alone took 5.2 s with both cores busy.
            // The limit is only there to stop a hang.
            testTimeout: 60_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'gpu-node',
            environment: 'node',
            include: ['src/**/*.gpu.test.ts'],
            setupFiles: ['src/gpu/testing/dawn-setup.ts'],
            testTimeout: 60_000,
          },
        },
        ...browserProject,
      ],
    },
  }),
);
