// worker_threads entry: lets the worker load TypeScript (through tsx, as the CLI does), then
// starts the kernel server. Plain JavaScript, because a worker cannot be given --import.
import { register } from 'tsx/esm/api';

register();
await import('./node-worker.ts');
