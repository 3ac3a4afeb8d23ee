// The runtime of steps 4 and 5: onnxruntime-web on WebGPU or wasm. The default follows the adapter
// (app/state/provider.ts) and says why beside the select, as the merge engine's does.
import { useStore } from 'zustand';
import type { ExecutionProvider } from '../../../src/inference/ort';
import { gpuStore } from '../../gpu/store';
import { inferStore } from '../../state/infer';
import { runInference } from '../../state/infer-actions';
import { currentProvider, defaultProvider } from '../../state/provider';

export function ProviderSelect() {
  const gpu = useStore(gpuStore);
  const picked = useStore(inferStore, (s) => s.provider);
  const fallback = defaultProvider(gpu);
  const provider = currentProvider(picked, gpu);
  return (
    <>
      <label>
        Runtime{' '}
        <select
          aria-label="Execution provider"
          value={provider}
          onChange={(e) => {
            inferStore.setState({ provider: e.target.value as ExecutionProvider });
            void runInference();
          }}
        >
          <option value="webgpu">onnxruntime-web · WebGPU</option>
          <option value="wasm">onnxruntime-web · wasm (CPU)</option>
        </select>
      </label>
      <span className="muted provider-reason" data-testid="provider-reason">
        {picked === undefined || picked === fallback.provider
          ? `Default: ${fallback.provider === 'webgpu' ? 'WebGPU' : 'wasm'}. ${fallback.reason}`
          : 'Chosen by you.'}
      </span>
    </>
  );
}
