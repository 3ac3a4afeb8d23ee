// Checks that each LoRA adapter of a zoo (public/zoo/words-4/adapters/<task>) read the way the
// studio and the CLI read it (src/peft/lora.ts over base.safetensors) gives exactly the weights
// of the full model beside it (<task>.safetensors): same tensor names and shapes, and the largest
// absolute difference of any value (0 when the generator computed W + s·B·A in lora.ts's order).
// Usage: node --import tsx tools/zoo/check_adapters.mjs [ZOO_DIR]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OpenFiles, openAdapter, openPath } from '../../src/cli/files.ts';
import { readTensor } from '../../src/formats/tensor.ts';
import { loraCheckpoint } from '../../src/peft/lora.ts';

const dir = resolve(process.argv[2] ?? 'public/zoo/words-4');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const files = new OpenFiles();
let bad = 0;
try {
  const base = await openPath(join(dir, manifest.base.safetensors), files);
  for (const task of manifest.tasks) {
    const adapter = await openAdapter(join(dir, task.adapter), files);
    if (!adapter) throw new Error(`${task.adapter}: not an adapter folder`);
    const got = loraCheckpoint(base, adapter.checkpoint, adapter.config);
    const want = await openPath(join(dir, task.safetensors), files);
    const names = [...want.tensors.keys()].sort();
    if (JSON.stringify([...got.tensors.keys()].sort()) !== JSON.stringify(names)) {
      bad++;
      console.error(`${task.id}: the adapter's tensor names differ from ${task.safetensors}`);
      continue;
    }
    let maxDiff = 0;
    let differing = 0;
    for (const name of names) {
      const [g, w] = [got.tensors.get(name), want.tensors.get(name)];
      if (JSON.stringify(g.shape) !== JSON.stringify(w.shape)) {
        bad++;
        console.error(
          `${task.id}: ${name} is [${g.shape}] from the adapter, [${w.shape}] in ${task.safetensors}`,
        );
        continue;
      }
      const a = new Float32Array((await readTensor(g)).buffer);
      const b = new Float32Array((await readTensor(w)).buffer);
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
      if (d > 0) differing++;
      maxDiff = Math.max(maxDiff, d);
    }
    console.log(
      `${task.id}: ${names.length} tensors, base + adapter vs ${task.safetensors}: max |diff| ${maxDiff} (${differing} tensors differ)`,
    );
    if (maxDiff > 1e-6) bad++;
  }
} finally {
  await files.closeAll();
}
if (bad) process.exit(1);
