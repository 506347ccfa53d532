/** The contract every `ccinfer` command implements. */
import type { Fetcher } from '@ccinfer/core';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Network access for collateral; absent with `--offline`. */
  fetcher: Fetcher | undefined;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT/SIGTERM for long-running commands. */
  signal: AbortSignal;
}

/**
 * One flag of a command: the node:util `parseArgs` fields, plus what `--help` prints — `arg` the value's
 * placeholder (`FILE`), `help` one line on what it does, `fallback` the default in words. The option table a
 * command parses with is the one its help prints, so the two cannot drift apart.
 */
export interface Flag {
  type: 'string' | 'boolean';
  multiple?: boolean;
  arg?: string;
  help: string;
  fallback?: string;
}

export type FlagTable = Record<string, Flag>;

export interface Command {
  /** Words that select the command, e.g. `verify snp`. */
  name: string;
  summary: string;
  usage: string;
  /** The flags `run` parses, for `--help`. */
  options?: FlagTable;
  /** One typical invocation, for `--help`. */
  example?: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * Exit statuses (docs/cli.md "Exit status"). `UNREACHABLE`: no evidence was appraised because the pod could not
 * be reached or is not a ccinfer gateway — distinct from 1, which always means evidence was looked at and
 * refused. `INTERRUPTED`: 128 + SIGINT, the shell convention.
 */
export const EXIT = { ACCEPTED: 0, REJECTED: 1, USAGE: 2, UNREACHABLE: 3, INTERRUPTED: 130 } as const;

/** A usage or unreadable-input error: exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
