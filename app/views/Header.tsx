// Title, the promise (nothing leaves the machine), the adapter line, and the theme toggle.
import { useStore } from 'zustand';
import { GpuStatus } from '../gpu/GpuStatus';
import { themeStore, toggleTheme } from '../state/theme';

export function Header() {
  const theme = useStore(themeStore, (s) => s.theme);
  return (
    <header className="app-header">
      <div className="title-row">
        <h1>Merge Studio</h1>
        <nav aria-label="Steps" className="steps-nav">
          <a href="#models">Models</a>
          <a href="#merge">Merge</a>
          <a href="#inspect">Inspect</a>
          <a href="#export">Export</a>
        </nav>
        <button
          type="button"
          className="theme-toggle"
          onClick={toggleTheme}
          aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
        >
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </div>
      <p className="tagline">
        Merge fine-tuned checkpoints with EMR-Merging on your own GPU or CPU. The weights never leave your
        machine.
      </p>
      <GpuStatus />
    </header>
  );
}
