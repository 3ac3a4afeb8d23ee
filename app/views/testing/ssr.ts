// Server rendering (renderToStaticMarkup) reads a zustand store through useSyncExternalStore's
// server snapshot, which is the store's initial state: point it at the current state, so a
// component test can set a store and render what the page would show.
import { vi } from 'vitest';
import type { StoreApi } from 'zustand';

export function renderCurrentState<T>(store: StoreApi<T>): void {
  vi.spyOn(store, 'getInitialState').mockImplementation(() => store.getState());
}
