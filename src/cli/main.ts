// merge-studio: the command line over the same flow as the studio (src/flow), CPU engine in Node.
// This file answers --help, <command> --help and --version from ./usage.ts alone and loads the rest
// (./dispatch.ts: argument errors, Ctrl-C, the commands in ./commands) only for a command, so that
// start-up to the first line of help is Node's own plus a few kilobytes (docs/benchmarks.md).
// Exit codes: 0 success, 1 refused input or failure (one line on stderr), 2 usage, 130 interrupted.
import { helpFor, USAGE } from './usage';

export async function main(argv: string[]): Promise<number> {
  const help = helpFor(argv);
  if (help !== undefined) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (argv[0] === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 2;
  }
  // A merge's CPU worker boots (~0.1–0.2 s) while the command's modules load and its headers are
  // read, so it is ready when the elect pass starts (src/merge/cpu/node-worker-start.ts).
  if (argv[0] === 'merge') (await import('../merge/cpu/node-worker-start')).startWorkerEarly();
  const { dispatch } = await import('./dispatch');
  return dispatch(argv[0], argv.slice(1));
}
