// merge-studio: the command line over the same flow as the studio (src/flow), CPU engine in Node.
// This file only dispatches: each command is a file in ./commands (looked up in ./commands/index.ts),
// what it prints is ./print.ts, usage and help are ./usage.ts.
// Exit codes: 0 success, 1 refused input or failure (one line on stderr), 2 usage, 130 interrupted.
import { COMMANDS } from './commands';
import { OpenFiles } from './files';
import { UsageError } from './job';
import { helpFor, USAGE } from './usage';

class Interrupted extends Error {}

const isUsageError = (e: unknown): e is Error =>
  e instanceof UsageError ||
  (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'));

export async function main(argv: string[]): Promise<number> {
  // --help, <command> --help, --version: usage text in ./usage.ts
  const help = helpFor(argv);
  if (help !== undefined) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 2;
  }
  const controller = new AbortController();
  const files = new OpenFiles();
  const onSigint = () => controller.abort(new Interrupted('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command as keyof typeof COMMANDS] : undefined;
    if (!run) throw new UsageError(`unknown command "${command}"`);
    await run(rest, controller.signal, files);
    controller.signal.throwIfAborted();
    return 0;
  } catch (e) {
    if (e instanceof Interrupted || controller.signal.aborted) {
      process.stderr.write('merge-studio: interrupted; no partial output was left\n');
      return 130;
    }
    if (isUsageError(e)) {
      process.stderr.write(`merge-studio: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    // FormatError, ModelSetError, BundleError and TaskRefusedError messages name the file and the problem.
    process.stderr.write(`merge-studio: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await files.closeAll();
  }
}
