// Plan: a decision of the shared flow (docs/architecture.md#flow-decisions) on the command line — a
// task file of another model is refused as the studio refuses it: exit 1, one line naming the file,
// and nothing written in --out.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fileSink } from '../../formats/node-files';
import { writeSafetensors } from '../../formats/safetensors';
import { runCli } from '../testing';

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

async function model(path: string, tensors: Record<string, number[]>) {
  await writeSafetensors(
    await fileSink(path),
    Object.entries(tensors).map(([name, shape]) => ({
      name,
      dtype: 'F32' as const,
      shape,
      bytes: new Uint8Array(shape.reduce((a, d) => a * d, 1) * 4),
    })),
  );
}

it('refuses a task that is not a fine-tune of the base, naming its file, before writing anything', async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-flow-'));
  await model(join(dir, 'base.safetensors'), { w: [4, 4], b: [4] });
  await model(join(dir, 'a.safetensors'), { w: [4, 4], b: [4] });
  await model(join(dir, 'x.safetensors'), { 'encoder.q': [3, 3] });
  const out = join(dir, 'out');
  const r = await runCli([
    'merge',
    '--base',
    join(dir, 'base.safetensors'),
    '--task',
    `a=${join(dir, 'a.safetensors')}`,
    '--task',
    `x=${join(dir, 'x.safetensors')}`,
    '--out',
    out,
  ]);
  expect(r.code).toBe(1);
  expect(r.err).toContain(`${join(dir, 'x.safetensors')}: Not a fine-tune of this base`);
  await expect(readdir(out)).rejects.toThrow();
});
