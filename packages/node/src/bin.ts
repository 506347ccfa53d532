#!/usr/bin/env node
/** The `ccinfer` executable (package `bin`): wires the CLI to the process (files, network, signals, exit status). */
import { readFile, writeFile } from 'node:fs/promises';
import { main } from './cli/main.js';
import type { CliIo } from './cli/types.js';

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    // An AbortError, so the client and the CLI tell an interrupt from a failure (exit 130 "interrupted").
    controller.abort(new DOMException(`received ${sig}`, 'AbortError'));
    setTimeout(() => process.exit(130), 2000).unref();
  });
}

const io: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  writeFile: (p, d) => writeFile(p, d),
  fetcher: (url, init) => fetch(url, init),
  env: process.env,
  signal: controller.signal,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ccinfer: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
