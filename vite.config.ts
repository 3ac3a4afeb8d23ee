import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { contentSecurityPolicy } from './scripts/csp.ts';
import { offline } from './scripts/offline.ts';

export default defineConfig({
  plugins: [react(), contentSecurityPolicy(), offline()],
  // WebGPU needs a secure context: localhost / 127.0.0.1 qualify.
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  worker: { format: 'es' },
  // onnxruntime-web finds its .wasm next to its own module; pre-bundling would move the module away.
  // Workers' dependencies are found only when a worker first runs; pre-bundle them at start so the
  // dev server does not reload the page mid-session (a newcomer's first "Load demo" would be lost).
  optimizeDeps: {
    exclude: ['onnxruntime-web', 'onnxruntime-web/webgpu'],
    include: [
      'comlink',
      'fflate',
      'protobufjs/light.js',
      'chart.js',
      'zustand',
      'zustand/vanilla',
      '@huggingface/tokenizers',
      'papaparse',
    ],
  },
  build: { target: 'es2022', sourcemap: true },
});
