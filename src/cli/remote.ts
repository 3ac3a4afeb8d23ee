// Remote inputs for the command line: `hf://org/name[@rev][/folder]` (a Hugging Face Hub repo,
// as mergekit and huggingface_hub name them) and `https://…` (a Hub URL, or a file on any server
// that answers ranged GETs) wherever a path is taken. Only headers are fetched when a checkpoint is
// opened; tensors are read by range as the merge needs them (src/formats/http-source.ts).
// The endpoint is `HF_ENDPOINT` and the token `HF_TOKEN`, as huggingface_hub reads them; the token
// goes to the endpoint's origin only.
import { FormatError } from '../formats/errors';
import { httpSource } from '../formats/http-source';
import {
  DEFAULT_HUB_ENDPOINT,
  hubRefLabel,
  openHubCheckpoint,
  parseHubRef,
  type HubRef,
} from '../formats/hub';
import { openCheckpoint } from '../formats/open';
import type { Checkpoint } from '../formats/tensor';
import { parsePeftConfig, type PeftConfig } from '../peft/lora';

/** Counts the bytes of remote files a command fetched (not the Hub API's small JSON answers). */
export class RemoteBytes {
  fetched = 0;
  files = 0;
  readonly onFetched = (n: number): void => {
    this.fetched += n;
  };
}

const endpoint = (): string => process.env['HF_ENDPOINT'] || DEFAULT_HUB_ENDPOINT;

/** A Hub reference for `hf://…` or a Hub URL; undefined for anything else. */
export function hubRefOf(path: string): HubRef | undefined {
  if (/^hf:\/\//i.test(path) || /^https?:\/\//i.test(path)) return parseHubRef(path, endpoint());
  return undefined;
}

export const isRemote = (path: string): boolean => /^(hf|https?):\/\//i.test(path);

/** The task name a remote input gets by default: the repo's name (or the folder / file stem in it). */
export function remoteTaskName(path: string): string {
  const ref = hubRefOf(path);
  if (ref) {
    const last = (ref.file ?? ref.subfolder).split('/').filter(Boolean).at(-1);
    const stem = last?.replace(/\.(safetensors|onnx|bin|pt|pth|ckpt)$/i, '');
    return stem && stem !== 'model' && stem !== 'pytorch_model'
      ? stem
      : (ref.repo.split('/').at(-1) ?? ref.repo);
  }
  const file = new URL(path).pathname.split('/').filter(Boolean).at(-1) ?? 'remote';
  return file.replace(/\.(safetensors|onnx|bin|pt|pth|ckpt)$/i, '');
}

export interface RemoteInput {
  readonly checkpoint: Checkpoint;
  readonly peft?: PeftConfig;
}

/** Opens a remote input, reading its headers only. */
export async function openRemote(path: string, bytes: RemoteBytes): Promise<RemoteInput> {
  const token = process.env['HF_TOKEN'];
  const ref = hubRefOf(path);
  if (ref) {
    const remote = await openHubCheckpoint(ref, {
      endpoint: endpoint(),
      ...(token ? { token } : {}),
      onFetched: bytes.onFetched,
    });
    bytes.files += remote.sources.length;
    if (remote.layout.kind === 'adapter' && remote.layout.adapterConfig) {
      const configName = `hf://${hubRefLabel(ref)}/${remote.layout.adapterConfig}`;
      const peft = parsePeftConfig(await remote.readText(remote.layout.adapterConfig), configName);
      return { checkpoint: remote.checkpoint, peft };
    }
    return { checkpoint: remote.checkpoint };
  }
  if (!/^https?:\/\//i.test(path)) {
    throw new FormatError('unsupported', path, 'not a remote address (hf://org/name or https://…)');
  }
  // Another server: one file, no token (it is the Hub's, and for the Hub's origin only).
  const source = await httpSource(path, { onFetched: bytes.onFetched });
  bytes.files += 1;
  return { checkpoint: await openCheckpoint(source) };
}
