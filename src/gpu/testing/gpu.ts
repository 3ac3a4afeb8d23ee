// One device per test file, shared by its cases. A missing adapter throws: GPU tests fail, never skip.
import { acquireGpu, type Gpu } from '../device';

let shared: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  shared ??= acquireGpu().then((gpu) => {
    console.info(`WebGPU adapter: ${gpu.info.name} (${gpu.info.description || 'no description'})`);
    return gpu;
  });
  return shared;
}

/** The same GPU with a smaller reported limit, to drive tiling code paths with small inputs. */
export function withLimits(gpu: Gpu, limits: Partial<Gpu['info']['limits']>): Gpu {
  return { device: gpu.device, info: { ...gpu.info, limits: { ...gpu.info.limits, ...limits } } };
}
