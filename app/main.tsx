import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { probeGpu } from './gpu/store';
import { studioTestApi } from './test-api';
import './styles.css';

void probeGpu(); // once per page, not per render
window.__studio = studioTestApi;

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
