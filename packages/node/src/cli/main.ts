/**
 * The `ccinfer` command line (docs/cli.md). Exit status: 0 accepted · 1 evidence rejected (including
 * unparsable evidence) · 2 usage or unreadable input.
 */
import { CcinferError, ConfigError } from '@ccinfer/core';
import { commands } from './commands/index.js';
import { EXIT, UsageError, type CliIo } from './types.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return ['usage: ccinfer <command> [options]', '', ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', 'ccinfer <command> --help shows its options.', ''].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(help());
    return argv.length === 0 ? EXIT.USAGE : EXIT.ACCEPTED;
  }
  // Longest match first: `verify snp` before `verify`.
  const cmd = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length).find((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  });
  if (!cmd) {
    io.stderr(`ccinfer: unknown command ${argv.slice(0, 2).join(' ')}\n\n${help()}`);
    return EXIT.USAGE;
  }
  const rest = argv.slice(cmd.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`usage: ${cmd.usage}\n`);
    return EXIT.ACCEPTED;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ccinfer ${cmd.name}: ${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof ConfigError) {
      io.stderr(`ccinfer ${cmd.name}: ${err.code}: ${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof CcinferError) {
      io.stderr(`ccinfer ${cmd.name}: ${err.code}: ${err.message}\n`);
      return EXIT.REJECTED;
    }
    io.stderr(`ccinfer ${cmd.name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.REJECTED;
  }
}
