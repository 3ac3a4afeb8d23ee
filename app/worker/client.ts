// The page's handle on the studio worker, started on first use.
import { wrap, type Remote } from 'comlink';
import type { StudioService } from './service';

let remote: Remote<StudioService> | undefined;

export function studioWorker(): Remote<StudioService> {
  remote ??= wrap<StudioService>(
    new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name: 'studio' }),
  );
  return remote;
}
