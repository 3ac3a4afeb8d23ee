// Vitest setup for GPU tests in Node: exposes dawn.node as navigator.gpu, so the tests and the
// code under test use the same `navigator.gpu` they use in the browser. Without a GPU, Dawn finds
// the SwiftShader Vulkan driver that Chromium ships (Debian's lavapipe is too old for Dawn).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { create, globals } from 'webgpu';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env['VK_ICD_FILENAMES'] && existsSync(SWIFTSHADER_ICD)) {
  process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
}
// SwiftShader's window-system probe complains when this is unset; we never present to a window.
process.env['XDG_RUNTIME_DIR'] ??= tmpdir();
Object.assign(globalThis, globals);
// Created once per process and kept referenced: dawn.node must not be collected mid-run.
const gpu = create([]);
Object.defineProperty(globalThis, 'navigator', {
  value: { ...(globalThis.navigator ?? {}), gpu },
  configurable: true,
  writable: true,
});
