// Byte sinks: where writers stream their output, in order, without holding the whole file.
// Writers close the sinks they wrote when they succeed; on failure the caller disposes of them.
export interface ByteSink {
  /** The output's name, for messages. */
  readonly name: string;
  /** Appends bytes. The sink may keep the array until the returned promise resolves. */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Collects the output in memory (tests, small models, Blob downloads). */
export class MemorySink implements ByteSink {
  private readonly parts: Uint8Array[] = [];
  private length = 0;
  constructor(readonly name = 'memory') {}
  async write(bytes: Uint8Array): Promise<void> {
    this.parts.push(bytes.slice());
    this.length += bytes.byteLength;
  }
  async close(): Promise<void> {}
  bytes(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}
