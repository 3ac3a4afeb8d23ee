// Plan: mergekit's own example recipes, copied verbatim from its repository (examples/*.yml), run
// through `merge-studio merge recipe.yml` unchanged, over tiny Llama-named models in folders named
// as the recipes' Hub repos (`org/name/` beside the recipe: a model name is a path relative to the
// recipe first). Each merged tensor equals the CPU kernel run with the parameters mergekit's
// ConfigReader gives that tensor (gradients over layer depth, filters, the base left out), written
// in the recipe's dtype, with the recipe beside it as mergekit_config.yml; a slice over part of the
// layers is refused once the headers are read. What the parser refuses is ../merge/mergekit/recipe.test.ts.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { narrowFromF32, widenToF32, type MergeDType } from '../formats/dtype';
import { fileSink } from '../formats/node-files';
import { writeSafetensors } from '../formats/safetensors';
import { gtaTensor, linearTensor } from '../merge/mergekit/kernels';
import { depthOf } from '../merge/mergekit/settings';
import { slerpTensor } from '../merge/mergekit/slerp';
import { GRADIENT_SLERP, LINEAR, TIES } from '../merge/testing/mergekit-examples';
import { OpenFiles, openPath } from './files';
import { runCli } from './testing';

const REPOS = [
  'psmathur/orca_mini_v3_13b',
  'garage-bAInd/Platypus2-13B',
  'WizardLM/WizardLM-13B-V1.2',
  'WizardLM/WizardMath-13B-V1.0',
  'TheBloke/Llama-2-13B-fp16',
];
const LAYERS = 40; // the recipes' layer_range [0, 40]: a 40-layer model of 2×2 weights
const SHAPES: [string, number[]][] = [
  ['model.embed_tokens.weight', [6, 2]],
  ...Array.from({ length: LAYERS }, (_, i): [string, number[]][] => [
    [`model.layers.${i}.self_attn.q_proj.weight`, [2, 2]],
    [`model.layers.${i}.mlp.up_proj.weight`, [3, 2]],
    [`model.layers.${i}.input_layernorm.weight`, [2]],
  ]).flat(),
  ['model.norm.weight', [2]],
  ['lm_head.weight', [6, 2]],
];

let dir: string;
const values = new Map<string, Map<string, Float32Array>>(); // repo → tensor → values

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-studio-mergekit-'));
  let s = 11;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const common = SHAPES.map(([, shape]) => Float32Array.from({ length: shape.reduce((a, b) => a * b) }, rnd));
  for (const repo of REPOS) {
    await mkdir(join(dir, repo), { recursive: true });
    await writeFile(join(dir, repo, 'config.json'), '{"model_type": "llama"}');
    const tensors = new Map(
      SHAPES.map(([name], k) => [name, (common[k] as Float32Array).map((x) => x + rnd() * 0.3)]),
    );
    values.set(repo, tensors);
    await writeSafetensors(
      await fileSink(join(dir, repo, 'model.safetensors')),
      SHAPES.map(([name, shape]) => ({
        name,
        dtype: 'F32' as const,
        shape,
        bytes: new Uint8Array((tensors.get(name) as Float32Array).buffer),
      })),
    );
  }
});

async function run(name: string, recipe: string) {
  const file = join(dir, `${name}.yml`);
  await writeFile(file, recipe);
  const out = join(dir, `out-${name}`);
  const r = await runCli(['merge', file, '--engine', 'cpu', '--out', out]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return out;
}

/** The output model's tensors (dtype and values) in a task's folder, and its mergekit_config.yml. */
async function output(out: string, task: string) {
  const files = new OpenFiles();
  try {
    const c = await openPath(join(out, task, 'model.safetensors'), files);
    const tensors = new Map<string, { dtype: string; values: Float32Array }>();
    for (const [name, e] of c.tensors)
      tensors.set(name, {
        dtype: e.dtype,
        values: widenToF32(await e.data.read(0, e.byteLength), e.dtype as MergeDType),
      });
    return { tensors, recipe: await readFile(join(out, task, 'mergekit_config.yml'), 'utf8') };
  } finally {
    await files.closeAll();
  }
}

const f16 = (v: Float32Array) => Array.from(widenToF32(narrowFromF32(v, 'F16'), 'F16'));
const of = (repo: string, tensor: string) => values.get(repo)?.get(tensor) as Float32Array;
/** mergekit's numeric gradient at depth t (config.py evaluate_setting). */
const gradient = (v: number[], t: number) => {
  const scaled = t * (v.length - 1);
  const i0 = Math.trunc(scaled);
  const frac = scaled - i0;
  return (1 - frac) * (v[i0] as number) + frac * (v[Math.min(v.length - 1, i0 + 1)] as number);
};

describe("mergekit's example recipes, unchanged", () => {
  it('examples/gradient-slerp.yml: one slice, t by filter and layer depth, float16', async () => {
    const out = await run('gradient-slerp', GRADIENT_SLERP);
    const { tensors, recipe } = await output(out, 'Platypus2-13B');
    expect(recipe).toBe(GRADIENT_SLERP);
    for (const [name] of SHAPES) {
      const depth = depthOf(name, LAYERS);
      const t = name.includes('self_attn')
        ? gradient([0, 0.5, 0.3, 0.7, 1], depth)
        : name.includes('mlp')
          ? gradient([1, 0.5, 0.7, 0.3, 0], depth)
          : 0.5;
      const got = tensors.get(name);
      expect(got?.dtype).toBe('F16');
      const want = slerpTensor(t, of(REPOS[0] as string, name), of(REPOS[1] as string, name));
      expect(Array.from(got?.values ?? []), name).toEqual(f16(want));
    }
  });

  it('examples/linear.yml: no base model, weights normalised, float16', async () => {
    const out = await run('linear', LINEAR);
    const repos = [REPOS[0], REPOS[2], REPOS[1]] as string[];
    const { tensors } = await output(out, 'WizardLM-13B-V1.2');
    for (const [name, shape] of SHAPES) {
      const args = {
        name,
        shape,
        base: of(repos[0] as string, name),
        tasks: repos.map((r) => of(r, name)),
        params: [1, 0.3, 0.5].map((weight) => ({ weight, density: 1, gamma: 0.01, epsilon: 0.15 })),
      };
      expect(Array.from(tensors.get(name)?.values ?? []), name).toEqual(f16(linearTensor(true, args)));
    }
  });

  it('examples/ties.yml: density and weight gradients, a filtered weight, a base outside the models', async () => {
    const out = await run('ties', TIES);
    const repos = [REPOS[0], REPOS[1], REPOS[3]] as string[];
    const { tensors, recipe } = await output(out, 'WizardMath-13B-V1.0');
    expect(recipe).toBe(TIES);
    let zeroWeight = 0;
    for (const [name, shape] of SHAPES) {
      const t = depthOf(name, LAYERS);
      const weights = [1, gradient([0, 0.3, 0.7, 1], t), name.includes('mlp') ? 0.5 : 0];
      const densities = [gradient([1, 0.7, 0.1], t), 0.5, 0.33];
      zeroWeight += +(weights[1] === 0);
      const args = {
        name,
        shape,
        base: of(REPOS[4] as string, name),
        tasks: repos.map((r) => of(r, name)),
        params: weights.map((weight, k) => ({
          weight,
          density: densities[k] as number,
          gamma: 0.01,
          epsilon: 0.15,
        })),
      };
      const want = gtaTensor({ name: 'ties', normalize: true, rescale: false, lambda: 1, seed: 0 }, args);
      expect(Array.from(tensors.get(name)?.values ?? []), name).toEqual(f16(want));
    }
    expect(zeroWeight).toBeGreaterThan(1); // the embeddings and layer 0 take the gradient's first value
  });
});

describe('the SLERP family from flags', () => {
  it('--method slerp --param t=0.3 with one --task; the recipe it amounts to beside the model', async () => {
    const out = join(dir, 'out-flags-slerp');
    const r = await runCli([
      'merge',
      '--engine',
      'cpu',
      '--base',
      join(dir, REPOS[0] as string),
      '--task',
      join(dir, REPOS[1] as string),
      '--method',
      'slerp',
      '--param',
      't=0.3',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.out).toContain('SLERP (t = 0.3)');
    const { tensors, recipe } = await output(out, 'Platypus2-13B');
    for (const [name] of SHAPES) {
      const want = slerpTensor(0.3, of(REPOS[0] as string, name), of(REPOS[1] as string, name));
      expect(bits(tensors.get(name)?.values), name).toEqual(bits(want));
    }
    expect(recipe).toContain('merge_method: slerp');
    expect(recipe).toContain('t: 0.3');
  });
});

const bits = (v: Float32Array | undefined) => Array.from(new Uint32Array((v as Float32Array).slice().buffer));

describe('what a recipe may not do, once the models are open', () => {
  it('a slice over 20 of the 40 layers is refused', async () => {
    const src = (a: number, b: number) =>
      `{sources: [{model: ${REPOS[0]}, layer_range: [${a}, ${b}]}, {model: ${REPOS[1]}, layer_range: [${a}, ${b}]}]}`;
    const file = join(dir, 'half.yml');
    await writeFile(
      file,
      `merge_method: slerp\nbase_model: ${REPOS[0]}\nparameters: {t: 0.5}\nslices: [${src(0, 20)}]\n`,
    );
    const r = await runCli(['merge', file, '--engine', 'cpu', '--out', join(dir, 'out-half')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("layer_range [0, 20] does not cover the models' 40 layers");
  });
});
