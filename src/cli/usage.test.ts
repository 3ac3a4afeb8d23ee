// Plan: --help, <command> --help, help <command> and --version print and exit 0 (in this process;
// src/cli/install.test.ts runs the same from an installed package); no command is a usage error
// (2); a `--help` after `--` is an argument, not a request for help.
import { describe, expect, it } from 'vitest';
import { runCli } from './testing';
import { COMMANDS, helpFor, USAGE, VERSION } from './usage';
import pkg from '../../package.json' with { type: 'json' };

describe('merge-studio help and version', () => {
  it('--help and -h print the usage of every command', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const { code, out } = await runCli([flag]);
      expect(code).toBe(0);
      expect(out).toBe(`${USAGE}\n`);
      for (const c of COMMANDS) expect(out).toContain(`merge-studio ${c} `);
    }
  });

  it.each(COMMANDS)('%s --help prints that command’s usage and runs nothing', async (command) => {
    for (const args of [
      [command, '--help'],
      [command, '--out', 'x', '-h'],
      ['help', command],
    ]) {
      const { code, out, err } = await runCli(args);
      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out.startsWith(`usage:\n  merge-studio ${command} `)).toBe(true);
    }
  });

  it('--version prints the package version', async () => {
    expect(VERSION).toBe(pkg.version);
    expect(await runCli(['--version'])).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
  });

  it('no command is a usage error; --help after -- is an argument', async () => {
    expect((await runCli([])).code).toBe(2);
    expect(helpFor(['inspect', '--', '--help'])).toBeUndefined();
    expect(helpFor(['nonsense', '--help'])).toBeUndefined();
  });
});
