import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { probeGpu } from './gpu/store';
import { studioTestApi } from './test-api';
import './styles.css';

void probeGpu(); // once per page, not per render
// The built studio works offline after one visit (scripts/offline.ts); never under the dev server.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((e: unknown) => {
    console.warn('Merge Studio will not work offline: the service worker did not register', e);
  });
}
window.__studio = studioTestApi;

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
