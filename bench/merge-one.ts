// One measured run, in its own process so its peak RSS is its own: `streaming METHOD` runs the
// CLI's merge end to end (read, merge, write every task's model); `naive` runs the whole-tensor
// reference formulas with everything in memory, as the papers' PyTorch code does, and writes the
// same models. Prints one JSON line: seconds and peak RSS.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../src/cli/main';
import { fileSink } from '../src/formats/node-files';
import { openSafetensors, writeSafetensors } from '../src/formats/safetensors';
import { bytesSource } from '../src/formats/source';
import { referenceEmr, referenceEmrTask } from '../src/merge/reference';

const [mode, dir, method] = process.argv.slice(2) as [string, string, string | undefined];
const tasks = JSON.parse(await readFile(join(dir, 'tasks.json'), 'utf8')) as { name: string; path: string }[];
const out = join(dir, `out-${mode}-${method ?? 'emr'}`);
await rm(out, { recursive: true, force: true });
const started = performance.now();

if (mode === 'streaming') {
  const code = await main([
    'merge',
    '--base',
    join(dir, 'base.safetensors'),
    ...tasks.flatMap((t) => ['--task', `${t.name}=${t.path}`]),
    '--method',
    method ?? 'emr',
    '--engine',
    'cpu',
    '--out',
    out,
    '--no-bundle',
    '--json',
  ]);
  if (code !== 0) process.exit(code);
} else {
  // Everything into memory first, like torch.load of every checkpoint.
  const load = async (path: string) => {
    const c = await openSafetensors(bytesSource(new Uint8Array(await readFile(path)), path));
    const m = new Map<string, Float32Array>();
    for (const e of c.tensors.values())
      m.set(e.name, new Float32Array((await e.data.read(0, e.byteLength)).buffer));
    return m;
  };
  const base = await load(join(dir, 'base.safetensors'));
  const models = await Promise.all(tasks.map((t) => load(t.path)));
  const names = [...base.keys()].filter((n) => !n.startsWith('head.'));
  const ref = referenceEmr({
    tensors: names.map((n) => ({
      base: base.get(n) as Float32Array,
      tasks: models.map((m) => m.get(n) as Float32Array),
    })),
  });
  await mkdir(out, { recursive: true });
  for (const [t, task] of tasks.entries()) {
    const tensors = names.map((n, i) => {
      const values = referenceEmrTask(
        base.get(n) as Float32Array,
        ref.tauUni[i] as Float32Array,
        ref.masks[i]?.[t] as Uint8Array,
        ref.lambdas[t] as number,
      );
      return { name: n, dtype: 'F32' as const, shape: [values.length], bytes: new Uint8Array(values.buffer) };
    });
    const head = ['head.weight', 'head.bias'].map((n) => {
      const v = models[t]?.get(n) as Float32Array;
      return { name: n, dtype: 'F32' as const, shape: [v.length], bytes: new Uint8Array(v.buffer) };
    });
    await writeSafetensors(await fileSink(join(out, `${task.name}.safetensors`)), [...tensors, ...head]);
  }
}
const seconds = (performance.now() - started) / 1000;
await rm(out, { recursive: true, force: true });
process.stderr.write('');
console.log(
  JSON.stringify({ mode, method: method ?? 'emr', seconds, peakRss: process.resourceUsage().maxRSS * 1024 }),
);
