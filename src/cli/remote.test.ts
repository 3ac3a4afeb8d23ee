// Plan: the command line on Hub repos by name, against the local stand-in for the Hub
// (src/formats/testing-hub.ts, HF_ENDPOINT pointing at it): a merge of three repos reads their
// headers first (< 1 % of the bytes, reported), then writes the same files, bit for bit, as the
// merge of local copies; a repo that does not fit is refused before any tensor byte is fetched,
// naming the repo; a mergekit-style YAML names repos as mergekit does (`org/name`).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../formats/testing-hub';
import { runCli } from './testing';

const ZOO = 'public/zoo/digits-8';
const OTHER = 'public/zoo/digits-qa';
let hub: HubServer;
let dir: string;
/** The bytes of the three files merged (base, plain, noisy). */
let merged = 0;
const saved = process.env['HF_ENDPOINT'];

beforeAll(async () => {
  const file = async (path: string) => {
    const bytes = new Uint8Array(await readFile(path));
    if (path.startsWith(ZOO)) merged += bytes.byteLength;
    return { 'model.safetensors': bytes, 'config.json': new TextEncoder().encode('{}') };
  };
  hub = await startHubServer({
    'zoo/base': await file(`${ZOO}/base.safetensors`),
    'zoo/plain': await file(`${ZOO}/plain.safetensors`),
    'zoo/noisy': await file(`${ZOO}/noisy.safetensors`),
    'other/parity': await file(`${OTHER}/parity.safetensors`),
  });
  process.env['HF_ENDPOINT'] = hub.endpoint;
  dir = await mkdtemp(join(tmpdir(), 'cli-remote-'));
});
afterAll(async () => {
  if (saved === undefined) delete process.env['HF_ENDPOINT'];
  else process.env['HF_ENDPOINT'] = saved;
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const sameFiles = async (a: string, b: string) => {
  const names = (await readdir(a)).sort();
  expect(names).toEqual((await readdir(b)).sort());
  for (const n of names) expect(await readFile(join(a, n))).toEqual(await readFile(join(b, n)));
};

describe('hf:// inputs', () => {
  it('merges three Hub repos to the bits of the local merge, reading headers first', async () => {
    const remote = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      'hf://zoo/base',
      '--task',
      'hf://zoo/plain',
      '--task',
      'hf://zoo/noisy@main',
      '--out',
      join(dir, 'remote'),
      '--json',
    ]);
    expect(remote.code).toBe(0);
    expect(remote.err).toMatch(/checked 3 remote files from their headers \([\d.]+ KiB fetched\)/);
    const summary = JSON.parse(remote.out) as {
      tasks: { name: string }[];
      remote: { files: number; headerBytes: number; fetchedBytes: number };
    };
    expect(summary.tasks.map((t) => t.name)).toEqual(['plain', 'noisy']);
    expect(summary.remote.headerBytes).toBeLessThan(merged / 100); // < 1 % of the three files
    expect(summary.remote.fetchedBytes).toBeGreaterThan(summary.remote.headerBytes);

    const local = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      `${ZOO}/base.safetensors`,
      '--task',
      `${ZOO}/plain.safetensors`,
      '--task',
      `${ZOO}/noisy.safetensors`,
      '--out',
      join(dir, 'local'),
    ]);
    expect(local.code).toBe(0);
    await sameFiles(join(dir, 'remote'), join(dir, 'local'));
  }, 120_000);

  it('refuses a repo of another model before any tensor byte, naming it', async () => {
    const before = hub.served.get('other/parity') ?? 0;
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      'hf://zoo/base',
      '--task',
      'hf://zoo/plain',
      '--task',
      'hf://other/parity',
      '--out',
      join(dir, 'refused'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('other/parity');
    // its header only: 16 bytes to open it, then the header itself
    const header = new DataView((await readFile(`${OTHER}/parity.safetensors`)).buffer).getUint32(0, true);
    expect((hub.served.get('other/parity') ?? 0) - before).toBeLessThanOrEqual(
      16 + Math.max(header + 8, 4096),
    );
  }, 60_000);

  it('a YAML recipe names repos as mergekit does (org/name)', async () => {
    const recipe = join(dir, 'recipe.yml');
    await writeFile(
      recipe,
      [
        'merge_method: ties',
        'base_model: zoo/base',
        'models:',
        '  - zoo/plain',
        '  - model: hf://zoo/noisy',
        '    name: n',
      ].join('\n'),
    );
    const r = await runCli(['merge', recipe, '--engine', 'cpu', '--out', join(dir, 'yaml'), '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { tasks: { name: string }[] }).tasks.map((t) => t.name)).toEqual([
      'plain',
      'n',
    ]);
  }, 120_000);
});
