import { useEffect } from 'react';
import { useStore } from 'zustand';
import { themeStore } from './state/theme';
import { Header } from './views/Header';
import { EvalPanel } from './views/evaluate/EvalPanel';
import { ExportPanel } from './views/export/ExportPanel';
import { InferPanel } from './views/infer/InferPanel';
import { InspectPanel } from './views/inspect/InspectPanel';
import { DropZone } from './views/load/DropZone';
import { LoadPanel } from './views/load/LoadPanel';
import { MergePanel } from './views/merge/MergePanel';

export function App() {
  const theme = useStore(themeStore, (s) => s.theme);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  return (
    <>
      <DropZone />
      <main>
        <Header />
        <LoadPanel />
        <MergePanel />
        <InspectPanel />
        <InferPanel />
        <EvalPanel />
        <ExportPanel />
      </main>
    </>
  );
}
