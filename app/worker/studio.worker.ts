// The studio's dedicated module worker: the service behind comlink, so the page never blocks.
import { expose } from 'comlink';
import type { LifeLineMessage } from './client';
import { StudioService } from './service';

expose(new StudioService());

// The life line (./client.ts): hold the page's lock name for as long as this worker lives, so the
// page learns at once when it is gone. And the test hook that closes it from inside.
self.addEventListener('message', (event: MessageEvent<LifeLineMessage>) => {
  const { studioLifeLine, studioTestClose } = event.data ?? {};
  if (studioLifeLine)
    void navigator.locks.request(studioLifeLine, () => {
      self.postMessage({ studioLifeLineHeld: studioLifeLine } satisfies LifeLineMessage);
      return new Promise<never>(() => {});
    });
  if (studioTestClose) self.close();
});
