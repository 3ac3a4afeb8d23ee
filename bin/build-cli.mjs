// npm run build:cli: bundles the command line (src/cli/main.ts and everything it imports) and the
// CPU engine's worker into plain JavaScript under dist-cli/, so `merge-studio` starts without
// compiling TypeScript. What the bundle keeps out, and why:
//   - onnxruntime-web: it finds its .wasm files beside its own module, so it stays a dependency
//     resolved from node_modules at run time (and loads only for `eval`);
//   - webgpu (dawn.node): a native addon, loaded only when the GPU engine may be used.
// WGSL kernels (`?raw` imports, the Vite convention) are inlined as text. Dynamic imports become
// chunks of their own (splitting), so `--help` or a CPU merge never loads the GPU or eval code.
// The worker is its own entry, node-worker-entry.mjs, beside the chunk that starts it: the engine
// finds it with `new URL('./node-worker-entry.mjs', import.meta.url)` (src/merge/cpu/node-engine.ts).
// It rebuilds only when dist-cli/ is stale (see ./cli-build-state.mjs; --force: always), and
// swaps the new folder in whole, so a merge-studio already running keeps its own chunks.
import { build } from 'esbuild';
import { mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root as rootUrl, staleBuild } from './cli-build-state.mjs';

const root = fileURLToPath(rootUrl);
const dist = resolve(root, 'dist-cli');
if (!process.argv.includes('--force') && staleBuild() === undefined) {
  process.stderr.write('dist-cli/ is up to date\n');
  process.exit(0);
}

/** `import text from './x.wgsl?raw'`: the file's text as the default export. */
const rawText = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
      namespace: 'raw-text',
    }));
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
      watchFiles: [args.path],
    }));
  },
};

const out = await mkdtemp(resolve(root, '.dist-cli-'));
const started = new Date(); // main.mjs is dated from here: a source saved during the build is newer
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'src/cli/main.ts',
    'node-worker-entry': 'src/merge/cpu/node-worker.ts',
  },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]', // beside the entries: the worker URL is relative to the chunk
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['onnxruntime-web', 'webgpu'],
  plugins: [rawText],
  // Bundled CommonJS packages (protobufjs, papaparse) may call require(); ESM has none of its own.
  banner: {
    js: "import { createRequire as __msCreateRequire } from 'node:module'; const require = __msCreateRequire(import.meta.url);",
  },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});
// The inputs, for bin/merge-studio.js to tell (in a clone) whether the build is older than src/.
await writeFile(
  resolve(out, 'inputs.json'),
  JSON.stringify(
    Object.keys(result.metafile.inputs)
      .map((p) => relative(root, resolve(root, p.replace(/^raw-text:/, ''))))
      .filter((p) => !p.startsWith('node_modules')),
  ),
);
await utimes(resolve(out, 'main.mjs'), started, started);
const old = `${out}-old`;
await rename(dist, old).catch(() => {});
try {
  await rename(out, dist);
} finally {
  await rm(out, { recursive: true, force: true }); // left only when another build swapped first
  await rm(old, { recursive: true, force: true });
}
const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
process.stderr.write(
  `dist-cli/: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
);
