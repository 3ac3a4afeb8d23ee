// Files from a drop or the file picker, with their paths inside dropped folders: Chromium and
// Firefox expose folders through DataTransferItem.webkitGetAsEntry; elsewhere we get files only.
import type { PathedFile } from '../worker/service';

const fileOf = (entry: FileSystemFileEntry) =>
  new Promise<File>((resolve, reject) => entry.file(resolve, reject));

async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries hands out at most ~100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: PathedFile[]): Promise<void> {
  if (entry.name.startsWith('.')) return; // .git, .DS_Store
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) out.push({ path, file: await fileOf(entry as FileSystemFileEntry) });
  else if (entry.isDirectory) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, path, out);
  }
}

export async function filesFromDrop(data: DataTransfer): Promise<PathedFile[]> {
  const entries = [...data.items].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.length > 0 && entries.every((e) => e !== null)) {
    const out: PathedFile[] = [];
    for (const e of entries) await walk(e as FileSystemEntry, '', out);
    return out;
  }
  return filesFromList(data.files);
}

export function filesFromList(list: FileList | readonly File[]): PathedFile[] {
  return [...list].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}
