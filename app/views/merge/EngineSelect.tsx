// GPU (named by its adapter) or CPU; the default follows docs/architecture.md#engine-default and says why.
import { useStore } from 'zustand';
import { gpuStore } from '../../gpu/store';
import { defaultEngine, mergeStore } from '../../state/merge';
import type { EngineKind } from '../../worker/protocol';

export function EngineSelect() {
  const gpu = useStore(gpuStore);
  const picked = useStore(mergeStore, (s) => s.engine);
  const fallback = defaultEngine(gpu);
  const engine = picked ?? fallback.engine;
  const gpuLabel =
    gpu.status === 'ready'
      ? `GPU — ${gpu.info.name}${gpu.info.isSoftware ? ' (software)' : ''}`
      : 'GPU — unavailable';
  return (
    <div className="engine-select">
      <label className="field">
        <span>Engine</span>
        <select
          value={engine}
          onChange={(e) => mergeStore.setState({ engine: e.currentTarget.value as EngineKind })}
          data-testid="engine-select"
        >
          <option value="gpu" disabled={gpu.status !== 'ready'}>
            {gpuLabel}
          </option>
          <option value="cpu">CPU</option>
        </select>
      </label>
      <p className="muted engine-reason" data-testid="engine-reason">
        {picked === undefined || picked === fallback.engine
          ? `Default: ${fallback.engine.toUpperCase()}. ${fallback.reason}`
          : 'Chosen by you.'}
      </p>
    </div>
  );
}
