/**
 * The `ccinfer` command line (docs/cli.md). Exit status: 0 accepted · 1 evidence rejected (including
 * unparsable evidence) · 2 usage or unreadable input · 3 the pod could not be reached or is not a ccinfer
 * gateway · 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';
import { exitStatus, formatError, jsonError } from './errors.js';
import { EXIT, type CliIo, type Command } from './types.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return ['usage: ccinfer <command> [options]', '', ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', 'ccinfer <command> --help shows its options.', ''].join('\n');
}

/** `ccinfer <command> --help`: the synopsis, the summary, every flag from the command's option table, an example. */
export function commandHelp(cmd: Command): string {
  const lines = [`usage: ${cmd.usage}`, '', `${cmd.summary}.`];
  const flags = Object.entries(cmd.options ?? {}).map(([name, f]) => [`--${name}${f.arg ? ` ${f.arg}` : ''}${f.multiple ? ' ...' : ''}`, `${f.help}${f.fallback !== undefined ? ` (default: ${f.fallback})` : ''}`] as const);
  if (flags.length) {
    const width = Math.max(...flags.map(([f]) => f.length));
    lines.push('', 'options:', ...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`));
  }
  if (cmd.example) lines.push('', 'example:', `  ${cmd.example}`);
  return lines.join('\n') + '\n';
}

/**
 * The version of `@ccinfer/node` this executable belongs to: its package.json is one level up from the bundled
 * dist/bin.js and two levels up from src/cli/main.ts (tests run the sources).
 */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@ccinfer/node' && pkg.version) return pkg.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(help());
    return argv.length === 0 ? EXIT.USAGE : EXIT.ACCEPTED;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.stdout(`ccinfer ${version()}\n`);
    return EXIT.ACCEPTED;
  }
  // Longest match first: `verify snp` before `verify`.
  const cmd = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length).find((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  });
  if (!cmd) {
    // `ccinfer verify` alone (or with a misspelt subcommand): list that group's subcommands.
    const group = commands.filter((c) => c.name.includes(' ') && c.name.split(' ')[0] === argv[0]);
    if (group.length) {
      const width = Math.max(...group.map((c) => c.name.length));
      const list = group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
      const wanted = argv[1] === undefined || argv[1].startsWith('-') ? `ccinfer ${argv[0]} needs a subcommand` : `unknown command ${argv.slice(0, 2).join(' ')}`;
      io.stderr(`ccinfer: ${wanted}:\n${list}\n\nccinfer <command> --help shows its options.\n`);
      return EXIT.USAGE;
    }
    io.stderr(`ccinfer: unknown command ${argv.slice(0, 2).join(' ')}\n\n${help()}`);
    return EXIT.USAGE;
  }
  const rest = argv.slice(cmd.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(cmd));
    return EXIT.ACCEPTED;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    // --json callers read stdout: a failure is one JSON object there too.
    if (rest.includes('--json')) io.stdout(jsonError(err, io.signal));
    else io.stderr(formatError(cmd.name, err, io.signal));
    return exitStatus(err, io.signal);
  }
}
