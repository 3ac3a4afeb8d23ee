import { useStore } from 'zustand';
import { gpuStore } from './store';

/** Which WebGPU adapter the page got, and what that means for the merge engine. */
export function GpuStatus() {
  const state = useStore(gpuStore);
  if (state.status === 'probing') return <p role="status">Looking for a WebGPU adapter…</p>;
  if (state.status === 'unavailable') {
    return (
      <p role="status" data-testid="gpu-status" data-adapter="none">
        No WebGPU adapter: merges run on the CPU engine. <span className="muted">({state.reason})</span>
      </p>
    );
  }
  const { info } = state;
  return (
    <p role="status" data-testid="gpu-status" data-adapter={info.name}>
      WebGPU adapter: <strong>{info.name}</strong>
      {info.description ? ` (${info.description})` : ''}
      {info.isSoftware
        ? ' — a software adapter, slower than the CPU engine, which is the default here.'
        : ' — the GPU engine is the default.'}
      <span className="muted">
        {' '}
        Max binding {(info.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB,{' '}
        {info.limits.maxStorageBuffersPerShaderStage} storage buffers per stage.
      </span>
    </p>
  );
}
