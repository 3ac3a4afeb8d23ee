// A one-line progress bar on stderr, drawn only when stderr is a terminal.
import type { MergeProgress } from '../merge/merge';

export function progressBar(stream: NodeJS.WriteStream = process.stderr): {
  update(p: MergeProgress): void;
  done(): void;
} {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = performance.now();
  let last = 0;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < 100 && p.bytesDone < p.bytesTotal) return;
      last = now;
      const frac = p.bytesTotal ? p.bytesDone / p.bytesTotal : 1;
      const width = 30;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      const mbps = p.bytesDone / 2 ** 20 / Math.max((now - started) / 1000, 1e-3);
      stream.write(
        `\r${p.phase.padEnd(9)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${p.tensorsDone}/${p.tensorsTotal} tensors  ${mbps.toFixed(0)} MB/s `,
      );
    },
    done() {
      stream.write('\r\x1b[2K');
    },
  };
}
