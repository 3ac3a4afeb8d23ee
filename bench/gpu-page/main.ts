// The bench page: runs ./measure in Chromium's WebGPU and leaves the table in window.benchResult
// (a promise) for bench/gpu.ts, which serves this page and drives the browser.
import { acquireGpu } from '../../src/gpu/device';
import { measure } from './measure';

declare global {
  interface Window {
    benchResult?: Promise<string>;
  }
}

const out = document.getElementById('out') as HTMLElement;
const log = (line: string) => {
  out.textContent += `${line}\n`;
  console.log(line);
};
window.benchResult = acquireGpu(navigator.gpu, ['timestamp-query']).then((gpu) => measure(gpu, log));
