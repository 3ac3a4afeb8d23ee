// Plan: the eval command's refusals end to end — a labeled set per task and ONNX models (or a graph)
// are required, and the message names what is missing.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
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

describe('merge-studio eval', () => {
  it('needs a labeled set per task and ONNX models', async () => {
    const base = [
      'eval',
      '--base',
      join(dir, 'base.safetensors'),
      '--task',
      `alpha=${join(dir, 'alpha.safetensors')}`,
      '--task',
      `beta=${join(dir, 'beta.safetensors')}`,
    ];
    const noSets = await runCli(base);
    expect(noSets.code).toBe(2);
    expect(noSets.err).toContain('--eval alpha=SET.safetensors (missing: alpha, beta)');
    const withSets = await runCli([
      ...base,
      '--eval',
      `alpha=${join(dir, 'alpha.safetensors')}`,
      '--eval',
      `beta=${join(dir, 'beta.safetensors')}`,
    ]);
    expect(withSets.code).toBe(2);
    expect(withSets.err).toContain('give alpha as .onnx, or its graph with --graph alpha=FILE.onnx');
  });
});
