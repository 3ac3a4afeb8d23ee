#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx (no build step between `npm ci` and
// `npx merge-studio`), with a hook that loads the WGSL kernels (`?raw` imports) as text.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./raw-loader.mjs', import.meta.url);
registerTsx();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
