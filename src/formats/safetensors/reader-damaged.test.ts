// Plan: the torch-written fixture opens intact, then truncated and corrupted each way refuses with
// its error code and the file named.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bytesSource } from '../source';
import { openSafetensors } from './reader';
import { expectFormatError } from './testing';

const FIXTURE = new URL('./__fixtures__/dtypes.safetensors', import.meta.url);

describe('a file written by torch, damaged', () => {
  const name = 'dtypes.safetensors';
  const load = async () => new Uint8Array(await readFile(FIXTURE));
  const headerEnd = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const openDamaged = (bytes: Uint8Array) => openSafetensors(bytesSource(bytes, name));

  it('opens intact', async () => {
    expect((await openDamaged(await load())).tensors.size).toBe(15);
  });

  it('cut inside the data section (truncated)', async () => {
    const bytes = await load();
    await expectFormatError(openDamaged(bytes.subarray(0, bytes.byteLength - 3)), 'truncated', name);
  });

  it('cut inside the header (header-length)', async () => {
    const bytes = await load();
    await expectFormatError(openDamaged(bytes.subarray(0, headerEnd(bytes) - 1)), 'header-length', name);
  });

  it('with a byte appended (overlap)', async () => {
    const bytes = await load();
    const longer = new Uint8Array(bytes.byteLength + 1);
    longer.set(bytes);
    await expectFormatError(openDamaged(longer), 'overlap', name);
  });

  it('with a dtype renamed (unknown-dtype)', async () => {
    const bytes = await load();
    const text = new TextDecoder().decode(bytes.subarray(8, headerEnd(bytes)));
    const at = 8 + text.indexOf('"BF16"') + 1;
    bytes.set(new TextEncoder().encode('XF16'), at);
    await expectFormatError(openDamaged(bytes), 'unknown-dtype', name);
  });

  it('with one data offset changed (size-mismatch)', async () => {
    const bytes = await load();
    const text = new TextDecoder().decode(bytes.subarray(8, headerEnd(bytes)));
    const at = 8 + text.indexOf('[152,168]') + 1;
    bytes.set(new TextEncoder().encode('160'), at);
    await expectFormatError(openDamaged(bytes), 'size-mismatch', name);
  });

  it('with the header closed early (header-json)', async () => {
    const bytes = await load();
    bytes[headerEnd(bytes) - 40] = 0x7d; // '}' in the middle of the JSON
    await expectFormatError(openDamaged(bytes), 'header-json', name);
  });
});
