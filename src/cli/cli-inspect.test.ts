// Plan: the inspect command end to end — it lists tensors and what would be merged — and two runs
// through the real bin (npx) to check the documented exit codes.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInputs } from './cli-fixtures';
import { runCli } from './testing';

let dir: string;
beforeAll(async () => {
  dir = await cliInputs();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('merge-studio inspect', () => {
  it('lists tensors and what would be merged', async () => {
    const r = await runCli([
      'inspect',
      join(dir, 'base.safetensors'),
      join(dir, 'alpha.safetensors'),
      join(dir, 'beta.safetensors'),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/head\.weight\s+F32\s+\[4, 10\]/);
    expect(r.out).toContain('2 tensors merged (110 parameters)');
    expect(r.out).toContain('left out head.weight: shape-mismatch');
  });
});

describe('the installed bin', () => {
  const exec = promisify(execFile);
  it('runs through npx with the documented exit codes', async () => {
    const ok = await exec('npx', ['merge-studio', 'inspect', join(dir, 'alpha.safetensors')]);
    expect(ok.stdout).toContain('3 tensors');
    const bad = await exec('npx', ['merge-studio', 'inspect', join(dir, 'missing.safetensors')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('missing.safetensors: file not found');
  }, 30_000);
});
