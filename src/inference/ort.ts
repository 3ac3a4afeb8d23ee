// The one module that imports onnxruntime-web. Sessions are made from model bytes (the merged
// model is built in memory, never fetched), on the WebGPU execution provider when asked and
// available, else wasm; the session says which one it got.
//
// Browsers get onnxruntime-web's native WebGPU build (`onnxruntime-web/webgpu`: the C++ WebGPU
// execution provider compiled to wasm, ort-wasm-simd-threaded.asyncify.wasm, which also runs the
// wasm EP); the package's default entry is the deprecated JSEP build. `onnxruntime-web/webgpu` is
// browser-only (its exports have no `node` condition), so Node (the CLI's `eval`) loads the default
// entry, whose `node` condition is the wasm-only Node build. That specifier is a variable so the
// browser bundle never pulls the JSEP build and its own 29 MB wasm in.
import type * as OrtModule from 'onnxruntime-web/webgpu';

const NODE_ENTRY = 'onnxruntime-web';
const inNode =
  (globalThis as { process?: { release?: { name?: string } } }).process?.release?.name === 'node';
const ort: typeof OrtModule = inNode
  ? ((await import(/* @vite-ignore */ NODE_ENTRY)) as typeof OrtModule)
  : await import('onnxruntime-web/webgpu');

export type ExecutionProvider = 'webgpu' | 'wasm';

/** One named input of a run: float32 (images, tensors) or int64 (token ids, masks). */
export type Feed =
  | { readonly name: string; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly name: string; readonly data: BigInt64Array; readonly dims: readonly number[] };

export interface ModelSession {
  readonly provider: ExecutionProvider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs one batch: a float32 input of the given shape; returns the first output and its shape. */
  run(
    input: Float32Array,
    shape: readonly number[],
  ): Promise<{ data: Float32Array; dims: readonly number[] }>;
  /** Runs one batch of named inputs (every input the graph has); returns the first output. */
  runFeeds(feeds: readonly Feed[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** Preferred provider; 'webgpu' falls back to 'wasm' when the page has no WebGPU or it fails. */
  readonly provider?: ExecutionProvider;
  /** External-data files the model names (`location` → bytes). */
  readonly externalData?: readonly { readonly path: string; readonly data: Uint8Array }[];
  /**
   * The page's own GPUDevice for the WebGPU provider (docs/inference.md): the native WebGPU EP
   * takes one per session, so onnxruntime-web does not request a second device of its own.
   */
  readonly device?: GPUDevice;
}

// Its warnings (e.g. "VerifyEachNodeIsAssignedToAnEp": shape ops placed on the CPU, which is what
// we want) are for its own developers, not our users; they reach the console as red lines.
// env.logLevel covers the JavaScript side, logSeverityLevel (below) each session's C++ logger.
ort.env.logLevel = 'error';
const LOG_ERRORS_ONLY = 3;

// The wasm runtime runs single-threaded unless the page is cross-origin isolated (SharedArrayBuffer).
ort.env.wasm.numThreads = globalThis.crossOriginIsolated
  ? Math.min(4, navigator.hardwareConcurrency || 1)
  : 1;

// onnxruntime-web does one thing at a time per page or worker: it refuses a second wasm
// initialization while one is under way ("multiple calls to 'initWasm()'") and a run while another
// session's run is under way on WebGPU ("Session already started"). So every call into it —
// create, run, release — waits for the one before.
let queue: Promise<unknown> = Promise.resolve();

function serial<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work);
  queue = next.catch(() => {});
  return next;
}

export function createSession(model: Uint8Array, options: SessionOptions = {}): Promise<ModelSession> {
  return serial(() => create(model, options));
}

async function create(model: Uint8Array, options: SessionOptions): Promise<ModelSession> {
  const wanted = options.provider ?? 'wasm';
  const order: ExecutionProvider[] =
    wanted === 'webgpu' && globalThis.navigator !== undefined && 'gpu' in navigator
      ? ['webgpu', 'wasm']
      : ['wasm'];
  let lastError: unknown;
  for (const provider of order) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [
          provider === 'webgpu' && options.device ? { name: 'webgpu', device: options.device } : provider,
        ],
        graphOptimizationLevel: 'all',
        logSeverityLevel: LOG_ERRORS_ONLY,
        ...(options.externalData
          ? { externalData: options.externalData.map((e) => ({ path: e.path, data: e.data })) }
          : {}),
      });
      return wrap(session, provider);
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(
    `onnxruntime-web could not load the model: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    { cause: lastError },
  );
}

function wrap(session: OrtModule.InferenceSession, provider: ExecutionProvider): ModelSession {
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (inputName === undefined || outputName === undefined)
    throw new Error('the model has no input or no output');
  const runWith = (feeds: Record<string, OrtModule.Tensor>) =>
    serial(async () => {
      const results = await session.run(feeds);
      const out = results[outputName];
      if (!out || out.type !== 'float32') throw new Error(`output ${outputName} is not float32`);
      const data = (await out.getData()) as Float32Array;
      const dims = out.dims;
      for (const t of Object.values(results)) t.dispose();
      return { data, dims };
    });
  return {
    provider,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (input, shape) => runWith({ [inputName]: new ort.Tensor('float32', input, shape) }),
    runFeeds: (feeds) => {
      const names = new Set(feeds.map((f) => f.name));
      const missing = session.inputNames.filter((n) => !names.has(n));
      const unknown = [...names].filter((n) => !session.inputNames.includes(n));
      if (missing.length || unknown.length)
        return Promise.reject(
          new Error(
            `the model's inputs are ${session.inputNames.join(', ')}; ` +
              (missing.length ? `nothing was given for ${missing.join(', ')}` : '') +
              (missing.length && unknown.length ? '; ' : '') +
              (unknown.length ? `it has no input ${unknown.join(', ')}` : ''),
          ),
        );
      return runWith(
        Object.fromEntries(
          feeds.map((f) => [
            f.name,
            f.data instanceof BigInt64Array
              ? new ort.Tensor('int64', f.data, f.dims)
              : new ort.Tensor('float32', f.data, f.dims),
          ]),
        ),
      );
    },
    release: () => serial(() => session.release()),
  };
}
