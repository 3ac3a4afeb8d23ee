// Plan: the studio's platform checks read what a browser has, not its name: Chromium's pickers,
// Firefox's and Safari's lack of them (downloads, a zip for shards), folder inputs, OPFS, WebGPU.
import { describe, expect, it } from 'vitest';
import { capabilities, exportRoute } from './capabilities';

const chromiumLike = {
  showSaveFilePicker: () => {},
  showDirectoryPicker: () => {},
  navigator: { storage: { getDirectory: () => {} }, gpu: {} },
  document: { createElement: () => ({ webkitdirectory: false }) },
};
const firefoxLike = {
  navigator: { storage: { getDirectory: () => {} } },
  document: { createElement: () => ({ webkitdirectory: false }) },
};

describe('capabilities', () => {
  it('finds the pickers, folder input, OPFS and WebGPU where they are', () => {
    expect(capabilities(chromiumLike)).toEqual({
      saveFilePicker: true,
      directoryPicker: true,
      folderInput: true,
      opfs: true,
      webgpu: true,
    });
  });
  it('reports what is missing without failing (no pickers, no WebGPU, no document)', () => {
    expect(capabilities(firefoxLike)).toEqual({
      saveFilePicker: false,
      directoryPicker: false,
      folderInput: true,
      opfs: true,
      webgpu: false,
    });
    expect(capabilities({})).toEqual({
      saveFilePicker: false,
      directoryPicker: false,
      folderInput: false,
      opfs: false,
      webgpu: false,
    });
  });
});

describe('exportRoute', () => {
  it('streams to picked files and folders where the pickers exist', () => {
    const caps = capabilities(chromiumLike);
    expect(exportRoute(caps, false)).toBe('file');
    expect(exportRoute(caps, true)).toBe('folder');
  });
  it('downloads otherwise (shards as one zip)', () => {
    const caps = capabilities(firefoxLike);
    expect(exportRoute(caps, false)).toBe('download');
    expect(exportRoute(caps, true)).toBe('download');
  });
});
