import { readFile, writeFile } from 'node:fs/promises';
import type { CliIo } from '../../src/cli/types.js';
import { main } from '../../src/cli/main.js';

export interface Running {
  out: () => string;
  err: () => string;
  /** Aborts the command (as SIGINT would), for long-running ones: gateway, proxy, keybroker. */
  stop: () => void;
  done: Promise<number>;
}

/** Starts the CLI in-process with captured output and no network unless a fetcher is given. */
export function start(argv: string[], fetcher?: CliIo['fetcher']): Running {
  let out = '';
  let err = '';
  const ac = new AbortController();
  const io: CliIo = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    writeFile: (p, d) => writeFile(p, d),
    fetcher,
    env: {},
    signal: ac.signal,
  };
  return { out: () => out, err: () => err, stop: () => ac.abort(), done: main(argv, io) };
}

/** Runs the CLI to completion. */
export async function cli(argv: string[], fetcher?: CliIo['fetcher']): Promise<{ code: number; out: string; err: string }> {
  const r = start(argv, fetcher);
  const code = await r.done;
  return { code, out: r.out(), err: r.err() };
}

/** Polls `f` until it yields a value (e.g. a URL printed by a starting server). */
export async function waitFor(f: () => string | undefined, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
