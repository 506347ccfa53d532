import { readFile, writeFile } from 'node:fs/promises';
import type { CliIo } from '../../src/cli/types.js';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with captured output and no network unless a fetcher is given. */
export async function cli(argv: string[], fetcher?: CliIo['fetcher']): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    writeFile: (p, d) => writeFile(p, d),
    fetcher,
    env: {},
    signal: new AbortController().signal,
  };
  const code = await main(argv, io);
  return { code, out, err };
}
