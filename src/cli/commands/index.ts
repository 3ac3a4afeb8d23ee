// The CLI's commands by name: main.ts looks a command up here. A new command is a file in this
// folder, a line here, and its usage in ../usage.ts.
import type { OpenFiles } from '../files';
import type { Command as CommandName } from '../usage';
import { apply } from './apply';
import { evaluate } from './eval';
import { inspect } from './inspect';
import { merge } from './merge';

export type Command = (argv: string[], signal: AbortSignal, files: OpenFiles) => Promise<void>;

export const COMMANDS: Readonly<Record<CommandName, Command>> = {
  merge,
  apply,
  inspect,
  eval: evaluate,
};
