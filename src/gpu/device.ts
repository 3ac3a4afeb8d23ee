// Device acquisition: one place that asks for an adapter, requests the adapter's own
// limits (not the defaults), and says what it got.

export interface GpuInfo {
  /** Vendor and architecture as the adapter reports them, e.g. "google swiftshader". */
  readonly name: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** True for software adapters (SwiftShader, WARP): correct but slower than a tight CPU loop. */
  readonly isSoftware: boolean;
  /** The optional features the device got (those of OPTIONAL_FEATURES the adapter has). */
  readonly features: readonly GPUFeatureName[];
  readonly limits: {
    readonly maxStorageBufferBindingSize: number;
    readonly maxBufferSize: number;
    readonly maxStorageBuffersPerShaderStage: number;
    readonly maxComputeWorkgroupsPerDimension: number;
  };
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly info: GpuInfo;
}

export class NoWebGpuError extends Error {
  override readonly name = 'NoWebGpuError';
}

function assertAdapter(adapter: GPUAdapter | null): asserts adapter is GPUAdapter {
  if (!adapter) {
    throw new NoWebGpuError(
      'WebGPU is available but no adapter was found. In Chromium, enable it with --enable-unsafe-webgpu ' +
        '(and --enable-features=Vulkan on Linux); in Node, set VK_ICD_FILENAMES to a Vulkan driver.',
    );
  }
}

/** Limits we ask for: everything the adapter can do for the few limits our kernels depend on. */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupSizeX',
] as const;

/**
 * Optional features requested wherever the adapter has them, never assumed: Firefox, Safari and
 * software adapters lack some. onnxruntime-web's WebGPU provider, given this device, uses f16 and
 * subgroup kernels only when the device has them; 'timestamp-query' times the benchmark's kernels.
 */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

export async function acquireGpu(
  gpu: GPU | undefined = globalThis.navigator?.gpu,
  /** Optional features to enable where the adapter has them (the benchmark's 'timestamp-query'). */
  wanted: readonly GPUFeatureName[] = [],
): Promise<Gpu> {
  if (!gpu) throw new NoWebGpuError('This browser has no WebGPU (navigator.gpu is undefined).');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  assertAdapter(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const key of REQUESTED_LIMITS) requiredLimits[key] = adapter.limits[key];
  const requiredFeatures = [...new Set([...OPTIONAL_FEATURES, ...wanted])].filter((f) =>
    adapter.features.has(f),
  );
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const { vendor, architecture, description } = adapter.info;
  const isSoftware =
    adapter.info.isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|warp/i.test(`${architecture} ${description}`);
  const l = device.limits;
  return {
    device,
    info: {
      name: [vendor, architecture].filter(Boolean).join(' ') || description || 'unknown adapter',
      vendor,
      architecture,
      description,
      isSoftware,
      features: requiredFeatures.filter((f) => device.features.has(f)),
      limits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      },
    },
  };
}
