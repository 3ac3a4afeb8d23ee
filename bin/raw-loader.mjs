// Node module hooks for `import text from './file.wgsl?raw'`, the Vite convention the engine uses
// for its WGSL kernels: the file's text becomes the module's default export.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, next) {
  if (!specifier.endsWith('?raw')) return next(specifier, context);
  return { url: new URL(specifier, context.parentURL).href, format: 'module', shortCircuit: true };
}

export async function load(url, context, next) {
  if (!url.endsWith('?raw')) return next(url, context);
  const path = fileURLToPath(url.slice(0, -'?raw'.length));
  return {
    format: 'module',
    source: `export default ${JSON.stringify(await readFile(path, 'utf8'))};`,
    shortCircuit: true,
  };
}
