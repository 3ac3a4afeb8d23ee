// External data of an ONNX model: the files given beside it, found by the base name of each
// initializer's `location`, with `offset` and `length` checked against the file's size.
import { FormatError } from '../errors';
import type { ByteSource } from '../source';
import type { OnnxExternalFiles } from './types';

/** The last path component: `location` may carry a directory, the user gives us files. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

const BYTE_COUNT = /^\d+$/;

/** The files given beside the model, found by base name, and which of them the model used. */
export class ExternalFiles {
  private readonly byName = new Map<string, ByteSource[]>();
  private readonly order: ByteSource[] = [];
  private readonly usedSet = new Set<ByteSource>();

  constructor(
    private readonly model: string,
    others: OnnxExternalFiles,
  ) {
    const pairs: [string, ByteSource][] = Array.isArray(others)
      ? (others as readonly ByteSource[]).map((s) => [s.name, s])
      : [...(others as ReadonlyMap<string, ByteSource>)];
    for (const [name, source] of pairs) {
      const key = baseName(name);
      this.byName.set(key, [...(this.byName.get(key) ?? []), source]);
      this.order.push(source);
    }
  }

  resolve(
    name: string,
    entries: readonly { key?: string; value?: string }[],
  ): { source: ByteSource; offset: number; length: number } {
    const info = new Map(entries.map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location');
    const label = `initializer '${name}'`;
    if (location === undefined || location === '') {
      throw new FormatError('missing-file', this.model, `${label} has external data but no location`);
    }
    const candidates = this.byName.get(baseName(location)) ?? [];
    const source = candidates[0];
    if (source === undefined) {
      throw new FormatError(
        'missing-file',
        this.model,
        `${label} keeps its data in '${location}', which was not given: add that file (it lies beside the model)`,
      );
    }
    if (candidates.length > 1) {
      throw new FormatError(
        'duplicate-name',
        this.model,
        `${label} keeps its data in '${location}', and ${candidates.length} files of that name were given`,
      );
    }
    this.usedSet.add(source);
    const number = (key: 'offset' | 'length', fallback: number): number => {
      const text = info.get(key);
      if (text === undefined) return fallback;
      const n = BYTE_COUNT.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(n)) {
        throw new FormatError(
          'out-of-bounds',
          source.name,
          `${label} of ${this.model} has external data ${key} '${text}'`,
        );
      }
      return n;
    };
    const offset = number('offset', 0);
    // Without a length the data runs to the end of the file, as onnx's loader reads it.
    const length = number('length', Math.max(0, source.size - offset));
    if (offset + length > source.size) {
      throw new FormatError(
        'out-of-bounds',
        source.name,
        `${label} of ${this.model} has its data at bytes [${offset}, ${offset + length}), but the file has ${source.size} bytes`,
      );
    }
    return { source, offset, length };
  }

  /** The given files the model read, in the order they were given. */
  used(): string[] {
    return this.order.filter((s) => this.usedSet.has(s)).map((s) => s.name);
  }
}
