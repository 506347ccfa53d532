/**
 * `@ccinfer/node/cli`: the `ccinfer` command as a function, for embedding and tests. `runCli(argv, io)` takes
 * every effect (files, network, output, environment, cancellation) from `io` and resolves with the exit status:
 * 0 accepted, 1 evidence rejected (unparsable included), 2 usage or unreadable input, 3 the pod unreachable or
 * not a ccinfer gateway, 130 interrupted. The `ccinfer` executable
 * (`bin`) is this function wired to the process.
 *
 * @example
 * ```ts
 * import { runCli } from '@ccinfer/node/cli';
 * const status = await runCli(['verify', 'bundle', 'pod.cbor'], io);
 * ```
 */
export { main as runCli } from './cli/main.js';
export type { CliIo, Command } from './cli/types.js';
