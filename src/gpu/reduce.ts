// Sum (or sum of |x|) of an f32 array on the GPU: the partial_sums kernel gives one f32 per
// workgroup tile, the host adds the partials in f64. Inputs larger than one storage binding
// are processed in binding-sized pieces. CPU twin: src/merge/cpu/sum.ts.
import partialSumsWgsl from '../../shaders/reduce/partial_sums.wgsl?raw';
import type { Gpu } from './device';

export const SUM_WORKGROUP_SIZE = 256;
export const SUM_ITEMS_PER_THREAD = 8;
const TILE = SUM_WORKGROUP_SIZE * SUM_ITEMS_PER_THREAD;

const pipelines = new WeakMap<GPUDevice, Map<boolean, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, absolute: boolean): GPUComputePipeline {
  let byMode = pipelines.get(device);
  if (!byMode) pipelines.set(device, (byMode = new Map()));
  let pipeline = byMode.get(absolute);
  if (!pipeline) {
    const module = device.createShaderModule({ label: 'partial_sums', code: partialSumsWgsl });
    pipeline = device.createComputePipeline({
      label: `partial_sums abs=${absolute}`,
      layout: 'auto',
      compute: {
        module,
        entryPoint: 'main',
        constants: {
          WORKGROUP_SIZE: SUM_WORKGROUP_SIZE,
          ITEMS_PER_THREAD: SUM_ITEMS_PER_THREAD,
          ABSOLUTE: absolute ? 1 : 0,
        },
      },
    });
    byMode.set(absolute, pipeline);
  }
  return pipeline;
}

/** Splits `groups` workgroups over x and y so neither exceeds the per-dimension limit. */
export function dispatchShape(groups: number, maxPerDimension: number): [number, number] {
  const x = Math.min(groups, maxPerDimension);
  const y = Math.ceil(groups / x);
  if (y > maxPerDimension) throw new RangeError(`${groups} workgroups exceed a ${maxPerDimension}² dispatch`);
  return [x, y];
}

export interface SumOptions {
  /** Sum |x| instead of x. */
  readonly absolute?: boolean;
  /** Largest piece in elements, for tests of the tiling; defaults to what one binding holds. */
  readonly maxPieceElements?: number;
}

export async function gpuSum(gpu: Gpu, data: Float32Array, options: SumOptions = {}): Promise<number> {
  const { device, info } = gpu;
  const absolute = options.absolute ?? false;
  if (data.length === 0) return 0;
  const bindingElements = Math.floor(info.limits.maxStorageBufferBindingSize / 4 / TILE) * TILE;
  const pieceElements = Math.min(options.maxPieceElements ?? bindingElements, bindingElements, data.length);
  if (pieceElements <= 0) throw new RangeError('maxPieceElements must be positive');
  const maxGroups = Math.ceil(pieceElements / TILE);
  const [maxX, maxY] = dispatchShape(maxGroups, info.limits.maxComputeWorkgroupsPerDimension);
  const pipeline = pipelineFor(device, absolute);

  const input = device.createBuffer({
    size: pieceElements * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const partialBytes = maxX * maxY * 4;
  const partials = device.createBuffer({
    size: partialBytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    size: partialBytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const params = device.createBuffer({ size: 8, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: params } },
      { binding: 1, resource: { buffer: input } },
      { binding: 2, resource: { buffer: partials } },
    ],
  });
  try {
    let total = 0;
    for (let start = 0; start < data.length; start += pieceElements) {
      const count = Math.min(pieceElements, data.length - start);
      const [x, y] = dispatchShape(Math.ceil(count / TILE), info.limits.maxComputeWorkgroupsPerDimension);
      device.queue.writeBuffer(input, 0, data.buffer, data.byteOffset + start * 4, count * 4);
      device.queue.writeBuffer(params, 0, new Uint32Array([count, x]));
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y);
      pass.end();
      encoder.copyBufferToBuffer(partials, 0, readback, 0, x * y * 4);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ, 0, x * y * 4);
      const sums = new Float32Array(readback.getMappedRange(0, x * y * 4));
      for (const s of sums) total += s;
      readback.unmap();
    }
    return total;
  } finally {
    input.destroy();
    partials.destroy();
    readback.destroy();
    params.destroy();
  }
}
