#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx (no build step between `npm ci` and
// `npx merge-studio`), with a hook that loads the WGSL kernels (`?raw` imports) as text.
import { register as registerTsx } from 'tsx/esm/api';
import './raw-loader-register.mjs';

registerTsx();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
