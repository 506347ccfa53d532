/**
 * @ccinfer/node — Node adapters for ccinfer: the CLI entry, and (re-exported) the runtime-agnostic API.
 */
export { main as runCli } from './cli/main.js';
export type { CliIo, Command } from './cli/types.js';
