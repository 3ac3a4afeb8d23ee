// Light or dark: the system's choice until the user toggles, remembered across visits.
import { createStore } from 'zustand/vanilla';

export type Theme = 'light' | 'dark';
const KEY = 'merge-studio-theme';

const systemTheme = (): Theme =>
  globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';

const saved = (): Theme | undefined => {
  const v = globalThis.localStorage?.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : undefined;
};

export const themeStore = createStore<{ theme: Theme }>(() => ({ theme: saved() ?? systemTheme() }));

export function toggleTheme(): void {
  const theme: Theme = themeStore.getState().theme === 'dark' ? 'light' : 'dark';
  globalThis.localStorage?.setItem(KEY, theme);
  themeStore.setState({ theme });
}
