// The same measurements under dawn.node (`npm run bench:gpu -- --dawn`): the kernels as the CLI's
// `--engine gpu` runs them. Without a GPU, Dawn uses Chromium's SwiftShader driver.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { acquireGpu } from '../../src/gpu/device';
import { measure } from './measure';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env['VK_ICD_FILENAMES'] && existsSync(SWIFTSHADER_ICD))
  process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
Object.assign(globalThis, globals);
const dawn = create([]); // kept referenced for the whole run: dawn.node must not be collected
const gpu = await acquireGpu(dawn, ['timestamp-query']);
console.log(`\n${await measure(gpu, (line) => console.log(line))}`);
gpu.device.destroy();
void dawn;
