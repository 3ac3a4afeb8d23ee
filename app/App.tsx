import { GpuStatus } from './gpu/GpuStatus';

export function App() {
  return (
    <main>
      <header>
        <h1>Merge Studio</h1>
        <p className="tagline">
          Merge fine-tuned models with EMR-Merging on your own GPU. The weights never leave your machine.
        </p>
      </header>
      <GpuStatus />
    </main>
  );
}
