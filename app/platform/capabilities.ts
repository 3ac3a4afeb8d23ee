// What this browser can do, detected rather than assumed from the engine's name: Chromium has the
// File System Access pickers; Firefox and Safari do not, and get downloads instead (a zip where an
// export is several files), with the bytes staged in the origin-private file system (OPFS) rather
// than in memory where the browser can write there. Folder picking (<input webkitdirectory>) and
// WebGPU are detected the same way. Plain functions of a global object, so Node tests can pass one.

export interface Capabilities {
  /** `showSaveFilePicker`: an export streams to a file the user picks. */
  readonly saveFilePicker: boolean;
  /** `showDirectoryPicker`: a sharded model streams into a folder the user picks. */
  readonly directoryPicker: boolean;
  /** `<input webkitdirectory>`: "Add a folder…" picks a folder with its paths. */
  readonly folderInput: boolean;
  /** `navigator.storage.getDirectory`: the origin-private file system, for staging downloads. */
  readonly opfs: boolean;
  /** `navigator.gpu`: WebGPU (an adapter may still be missing; app/gpu/store.ts probes it). */
  readonly webgpu: boolean;
}

type Global = {
  showSaveFilePicker?: unknown;
  showDirectoryPicker?: unknown;
  navigator?: { storage?: { getDirectory?: unknown }; gpu?: unknown };
  document?: { createElement(tag: 'input'): object };
};

export function capabilities(g: Global = globalThis as Global): Capabilities {
  const input = g.document?.createElement('input');
  return {
    saveFilePicker: typeof g.showSaveFilePicker === 'function',
    directoryPicker: typeof g.showDirectoryPicker === 'function',
    folderInput: input !== undefined && 'webkitdirectory' in input,
    opfs: typeof g.navigator?.storage?.getDirectory === 'function',
    webgpu: g.navigator?.gpu !== undefined,
  };
}

/** Where an export goes: a picked file, a picked folder (a sharded model), or a download. */
export function exportRoute(caps: Capabilities, sharded: boolean): 'file' | 'folder' | 'download' {
  if (sharded) return caps.directoryPicker ? 'folder' : 'download'; // the download is a zip of the shards
  return caps.saveFilePicker ? 'file' : 'download';
}
