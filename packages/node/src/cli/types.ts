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

export interface Command {
  /** Words that select the command, e.g. `verify snp`. */
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit statuses (docs/cli.md "Exit status"). */
export const EXIT = { ACCEPTED: 0, REJECTED: 1, USAGE: 2 } as const;

/** A usage or unreadable-input error: exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
