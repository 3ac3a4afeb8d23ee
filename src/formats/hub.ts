// Hugging Face Hub repositories as checkpoints, read where they live: the repo's file list from
// the Hub's API, the model's files by ranged GETs (http-source.ts), so that only headers are
// fetched until the merge needs tensor bytes. Finds files the way huggingface_hub and
// transformers do: `model.safetensors`, the sharded `model.safetensors.index.json`, PyTorch's
// `pytorch_model.bin` (+ index), a PEFT adapter folder, an ONNX graph; `config.json` and the
// tokenizer's files ride along. See docs/formats.md#remote-checkpoints.
import { FormatError } from './errors';
import { httpSource, type HttpSource } from './http-source';
import { openCheckpoint } from './open';
import type { Checkpoint } from './tensor';

/** The Hub itself; `HF_ENDPOINT` (as huggingface_hub reads it) overrides it in the CLI. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubRef {
  /** `org/name` (or a bare `name` for the Hub's oldest models). */
  readonly repo: string;
  /** A branch, tag or commit; `main` when not given. */
  readonly revision: string;
  /** A folder inside the repo ('' for its root), or a file when `file` is set. */
  readonly subfolder: string;
  /** A single file the user pointed at (a `blob/` or `resolve/` URL). */
  readonly file?: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkRepo(repo: string, text: string): string {
  const parts = repo.split('/');
  if (parts.length > 2 || !parts.every((p) => SEGMENT.test(p) && !p.includes('..'))) {
    throw new FormatError('unsupported', text, `"${repo}" is not a Hugging Face repository name (org/name)`);
  }
  return repo;
}

function checkPath(path: string, text: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.')) {
    throw new FormatError(
      'unsupported',
      text,
      `the path "${path}" inside the repository may not contain . or ..`,
    );
  }
  return parts.join('/');
}

/**
 * Reads what the user typed: `org/name`, `org/name@rev`, `org/name@rev/sub/folder`,
 * `hf://org/name[@rev][/sub]`, or a Hub URL (`https://huggingface.co/org/name[/tree|blob|resolve/rev/path]`).
 * Undefined for anything else (a local path, another server's URL).
 */
export function parseHubRef(text: string, endpoint = DEFAULT_HUB_ENDPOINT): HubRef | undefined {
  const t = text.trim();
  const origin = new URL(endpoint).origin;
  if (/^https?:\/\//i.test(t)) {
    let url: URL;
    try {
      url = new URL(t);
    } catch {
      return undefined;
    }
    if (url.origin !== origin) return undefined;
    const parts = decodeURIComponent(url.pathname).split('/').filter(Boolean);
    if (parts[0] === 'datasets' || parts[0] === 'spaces' || parts.length < 1) return undefined;
    const repoParts = parts.length >= 2 && !['tree', 'blob', 'resolve'].includes(parts[1] ?? '') ? 2 : 1;
    const repo = checkRepo(parts.slice(0, repoParts).join('/'), t);
    const [kind, revision, ...rest] = parts.slice(repoParts);
    if (kind === undefined) return { repo, revision: 'main', subfolder: '' };
    if (revision === undefined || !['tree', 'blob', 'resolve'].includes(kind)) {
      throw new FormatError('unsupported', t, 'a Hub URL names a repository, a tree/ folder or a blob/ file');
    }
    const path = checkPath(rest.join('/'), t);
    return kind === 'tree'
      ? { repo, revision, subfolder: path }
      : { repo, revision, subfolder: '', file: path };
  }
  const bare = t.replace(/^hf:\/\//i, '');
  if (
    bare === t &&
    (t.startsWith('/') || t.startsWith('.') || /\.(safetensors|json|onnx|bin|pt|pth|ckpt)$/i.test(t))
  )
    return undefined;
  const m = /^([^@/]+(?:\/[^@/]+)?)(?:@([^/]+))?(?:\/(.*))?$/.exec(bare);
  if (!m) return undefined;
  const [, repoText = '', revision = 'main', rest = ''] = m;
  // `org/name/sub` without @rev: the first two segments are the repo.
  let repo = repoText;
  let subfolder = rest;
  if (m[2] === undefined && rest !== '' && !repoText.includes('/')) {
    repo = `${repoText}/${rest.split('/')[0] ?? ''}`;
    subfolder = rest.split('/').slice(1).join('/');
  }
  return { repo: checkRepo(repo, t), revision, subfolder: checkPath(subfolder, t) };
}

export const hubRefLabel = (ref: HubRef): string =>
  `${ref.repo}${ref.revision === 'main' ? '' : `@${ref.revision}`}${ref.subfolder ? `/${ref.subfolder}` : ''}${ref.file ? `/${ref.file}` : ''}`;

export interface HubOptions {
  readonly endpoint?: string;
  /** An access token for gated or private repos: kept by the caller in memory, sent only to the endpoint. */
  readonly token?: string;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  /** Bytes of the repo's files as they arrive (the API's small JSON answers are not counted). */
  readonly onFetched?: (bytes: number) => void;
}

/** `{endpoint}/{repo}/resolve/{revision}/{path}`, as huggingface_hub builds it. */
export function hubFileUrl(ref: HubRef, path: string, endpoint = DEFAULT_HUB_ENDPOINT): string {
  const rev = encodeURIComponent(ref.revision);
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${ref.repo}/resolve/${rev}/${file}`;
}

const authHeaders = (o: HubOptions): Record<string, string> =>
  o.token ? { authorization: `Bearer ${o.token}` } : {};

/** The repo's files (paths from its root) and the commit they are at. */
export async function listHubFiles(
  ref: HubRef,
  options: HubOptions = {},
): Promise<{ readonly sha: string | undefined; readonly files: readonly string[] }> {
  const endpoint = (options.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const label = hubRefLabel(ref);
  const rev = ref.revision === 'main' ? '' : `/revision/${encodeURIComponent(ref.revision)}`;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await doFetch(`${endpoint}/api/models/${ref.repo}${rev}`, {
      headers: authHeaders(options),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    throw new FormatError('missing-file', label, `the Hub could not be reached: ${String(e)}`, { cause: e });
  }
  if (response.status === 401 || response.status === 403) {
    throw new FormatError('missing-file', label, 'the repository is gated or private: give an access token');
  }
  if (response.status === 404) {
    throw new FormatError('missing-file', label, 'no such repository or revision on the Hub');
  }
  if (!response.ok) throw new FormatError('missing-file', label, `the Hub answered ${response.status}`);
  const text = await response.text();
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    throw new FormatError('header-json', label, "the Hub's answer is not JSON");
  }
  const siblings = (info as { siblings?: unknown }).siblings;
  if (!Array.isArray(siblings))
    throw new FormatError('header-json', label, "the Hub's answer lists no files");
  const files = siblings
    .map((s) => (s as { rfilename?: unknown }).rfilename)
    .filter((f): f is string => typeof f === 'string');
  const sha = (info as { sha?: unknown }).sha;
  return { sha: typeof sha === 'string' ? sha : undefined, files };
}

export interface HubLayout {
  readonly kind: 'model' | 'adapter';
  /** The checkpoint's primary file (the index for a sharded model), then nothing else. */
  readonly weights: string;
  readonly config: string | undefined;
  /** PEFT's adapter_config.json for an adapter. */
  readonly adapterConfig: string | undefined;
  /** tokenizer.json and the files a tokenizer may need. */
  readonly tokenizer: readonly string[];
}

/** In the order transformers tries them (safetensors first). */
const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
  'model.onnx',
];
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

/** Which of a repo's files make the checkpoint in `ref`'s folder. */
export function pickHubLayout(files: readonly string[], ref: HubRef): HubLayout {
  const label = hubRefLabel(ref);
  const prefix = ref.subfolder ? `${ref.subfolder}/` : '';
  const here = new Set(files.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)));
  const at = (name: string): string | undefined => (here.has(name) ? prefix + name : undefined);
  const tokenizer = TOKENIZER_FILES.map(at).filter((f): f is string => f !== undefined);
  if (ref.file !== undefined) {
    if (!files.includes(ref.file))
      throw new FormatError('missing-file', label, 'no such file in the repository');
    return { kind: 'model', weights: ref.file, config: undefined, adapterConfig: undefined, tokenizer: [] };
  }
  const adapterConfig = at('adapter_config.json');
  if (adapterConfig !== undefined) {
    const weights = at('adapter_model.safetensors') ?? at('adapter_model.bin');
    if (weights === undefined)
      throw new FormatError('missing-file', label, 'adapter_config.json without adapter_model.safetensors');
    return { kind: 'adapter', weights, config: undefined, adapterConfig, tokenizer };
  }
  const named = WEIGHT_FILES.map(at).find((f) => f !== undefined);
  const any = [...here].filter((f) => !f.includes('/') && /\.(safetensors|onnx)$/.test(f)).sort();
  const weights = named ?? (any.length === 1 ? prefix + (any[0] ?? '') : undefined);
  if (weights === undefined) {
    const why = any.length > 1 ? `several weight files (${any.join(', ')}): name one` : 'no weight file';
    throw new FormatError('missing-file', label, `${why} in ${ref.subfolder || 'the repository root'}`);
  }
  return { kind: 'model', weights, config: at('config.json'), adapterConfig: undefined, tokenizer };
}

export interface RemoteCheckpoint {
  readonly ref: HubRef;
  readonly layout: HubLayout;
  readonly checkpoint: Checkpoint;
  /** The commit every file was read at (so a push mid-merge cannot mix two revisions). */
  readonly revision: string;
  /** The origins the files came from (the endpoint; a CDN's once redirected — see sources). */
  readonly sources: readonly HttpSource[];
  /** A small file of the repo (config.json, adapter_config.json, tokenizer.json) as text. */
  readText(path: string): Promise<string>;
}

/**
 * Opens the checkpoint in a Hub repo (its folder), reading headers only: the file list, then the
 * weights' headers (each shard's for a sharded index). Tensor bytes are read later, by range.
 */
export async function openHubCheckpoint(ref: HubRef, options: HubOptions = {}): Promise<RemoteCheckpoint> {
  const endpoint = options.endpoint ?? DEFAULT_HUB_ENDPOINT;
  const { sha, files } = await listHubFiles(ref, options);
  const pinned: HubRef = { ...ref, revision: sha ?? ref.revision };
  const layout = pickHubLayout(files, ref);
  const label = hubRefLabel(ref);
  const open = (path: string): Promise<HttpSource> =>
    httpSource(hubFileUrl(pinned, path, endpoint), {
      // hf:// marks the name as no local path (the CLI never takes it for a file to protect or write)
      name: `hf://${label}/${path}`,
      headers: authHeaders(options),
      ...(options.onFetched ? { onFetched: options.onFetched } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  const readText = async (path: string): Promise<string> => {
    const s = await open(path);
    return new TextDecoder().decode(await s.read(0, s.size));
  };
  const primary = await open(layout.weights);
  const sources = [primary];
  if (/\.index\.json$/.test(layout.weights)) {
    const text = new TextDecoder().decode(await primary.read(0, primary.size));
    let shards: string[];
    try {
      const map = (JSON.parse(text) as { weight_map?: Record<string, unknown> }).weight_map ?? {};
      shards = [...new Set(Object.values(map).filter((v): v is string => typeof v === 'string'))];
    } catch {
      throw new FormatError('bad-index', primary.name, 'the index is not valid JSON');
    }
    const dir = layout.weights.includes('/')
      ? layout.weights.slice(0, layout.weights.lastIndexOf('/') + 1)
      : '';
    for (const shard of shards) {
      const path = checkPath(dir + shard, primary.name);
      if (!files.includes(path)) {
        throw new FormatError(
          'missing-file',
          primary.name,
          `the index names ${shard}, which the repository does not hold`,
        );
      }
      sources.push(await open(path));
    }
  } else if (/\.onnx$/.test(layout.weights)) {
    // External data may be named anything; exporters write `*.data` / `*_data` beside the graph.
    const dir = layout.weights.slice(0, layout.weights.lastIndexOf('/') + 1);
    const data = files.filter(
      (f) => f.startsWith(dir) && !f.slice(dir.length).includes('/') && /[._]data$/.test(f),
    );
    for (const path of data) sources.push(await open(path));
  }
  const checkpoint = await openCheckpoint(primary, sources.slice(1));
  return { ref, layout, checkpoint, revision: pinned.revision, sources, readText };
}
