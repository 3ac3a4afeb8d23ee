// One command run: looked up by name in ./commands (each loaded only when it runs), with Ctrl-C
// turned into an abort and every error into its exit code and one line on stderr.
// Exit codes: 0 success, 1 refused input or failure, 2 usage, 130 interrupted.
import { COMMANDS } from './commands';
import { OpenFiles } from './files';
import { UsageError } from './job';
import { USAGE } from './usage';

class Interrupted extends Error {}

const isUsageError = (e: unknown): e is Error =>
  e instanceof UsageError ||
  (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'));

export async function dispatch(command: string, rest: string[]): Promise<number> {
  const controller = new AbortController();
  const files = new OpenFiles();
  const onSigint = () => controller.abort(new Interrupted('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command as keyof typeof COMMANDS] : undefined;
    if (!load) throw new UsageError(`unknown command "${command}"`);
    const run = await load();
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
