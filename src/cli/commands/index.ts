// The CLI's commands by name: ../dispatch.ts looks a command up here and loads only that one (the
// eval command's ONNX and routing code never loads for a merge). A new command is a file in this
// folder, a line here, and its usage in ../usage.ts.
import type { OpenFiles } from '../files';
import type { Command as CommandName } from '../usage';

export type Command = (argv: string[], signal: AbortSignal, files: OpenFiles) => Promise<void>;

export const COMMANDS: Readonly<Record<CommandName, () => Promise<Command>>> = {
  merge: async () => (await import('./merge')).merge,
  apply: async () => (await import('./apply')).apply,
  inspect: async () => (await import('./inspect')).inspect,
  eval: async () => (await import('./eval')).evaluate,
};
