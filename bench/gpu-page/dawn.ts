// The measurements in Node through dawn.node (`npm run bench:gpu`): the kernels as the CLI's
// `--engine gpu` runs them. Dawn takes the system's Vulkan driver (an NVIDIA GPU's, say); where
// there is none for real hardware, or with --swiftshader, it is pointed at Chromium's SwiftShader
// (a software adapter). No adapter at all: a clear message and exit status 1.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { create, globals } from 'webgpu';
import { acquireGpu, NoWebGpuError, type Gpu } from '../../src/gpu/device';
import { measure } from './measure';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** A Vulkan driver for NVIDIA or AMD's proprietary stack is installed (Mesa's are skipped: no such GPU here). */
const hardwareIcd = () =>
  ICD_DIRS.some(
    (dir) => existsSync(dir) && readdirSync(dir).some((f) => /^(nvidia|amd_icd|amdvlk)/i.test(f)),
  );

if (
  !process.env['VK_ICD_FILENAMES'] &&
  (process.argv.includes('--swiftshader') || !hardwareIcd()) &&
  existsSync(SWIFTSHADER_ICD)
)
  process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
process.env['XDG_RUNTIME_DIR'] ??= tmpdir(); // SwiftShader's window-system probe asks for it
Object.assign(globalThis, globals);
const dawn = create([]); // kept referenced for the whole run: dawn.node must not be collected
let gpu: Gpu;
try {
  gpu = await acquireGpu(dawn, ['timestamp-query']);
} catch (e) {
  if (!(e instanceof NoWebGpuError)) throw e;
  console.error(
    `bench:gpu: no WebGPU adapter in dawn.node (VK_ICD_FILENAMES=${process.env['VK_ICD_FILENAMES'] ?? 'unset'}). ` +
      'Install the GPU vendor’s Vulkan driver (an ICD in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d), ' +
      `or Chromium for SwiftShader (${SWIFTSHADER_ICD}).\n${e.message}`,
  );
  process.exit(1);
}
console.log(
  `adapter: ${gpu.info.name}${gpu.info.isSoftware ? ' (software adapter)' : ''}; VK_ICD_FILENAMES=${process.env['VK_ICD_FILENAMES'] ?? 'unset (system drivers)'}`,
);
console.log(`\n${await measure(gpu, (line) => console.log(line))}`);
gpu.device.destroy();
void dawn;
