/** Options shared by the client commands (`attest`, `infer`, `proxy`): policy, anchors, collateral access. */
import type { SecureClient } from '@ccinfer/core';
import { createSecureClient } from '../client.js';
import { cacheOptions, cliCache, loadAnchors, loadPolicy } from './args.js';
import { formatCheck } from './format.js';
import { UsageError, type CliIo, type FlagTable } from './types.js';

/** Default `--timeout`: the attest request's whole deadline, its one retry included. */
const DEFAULT_TIMEOUT_S = 30;

export const clientOptions = {
  policy: { type: 'string', arg: 'FILE', help: 'appraisal policy JSON (docs/policy.md); `ccinfer policy init` writes one' },
  anchors: { type: 'string', arg: 'FILE', help: "trust anchors replacing the pinned vendor roots (a simulated pod's anchors file)" },
  offline: { type: 'boolean', help: 'fetch no collateral: only what the pod carries and the cache' },
  'allow-unpinned': { type: 'boolean', help: 'accept a policy that pins no measurement (any genuine confidential VM passes)' },
  timeout: {
    type: 'string',
    arg: 'SECONDS',
    help: 'how long to wait for the evidence, one retry of a refused connection, 429 or 5xx included',
    fallback: `${DEFAULT_TIMEOUT_S}`,
  },
  ...cacheOptions,
} as const satisfies FlagTable;

export function endpointArg(value: string | undefined, usage: string): string {
  if (!value) throw new UsageError(`missing the pod URL\nusage: ${usage}`);
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return u.href.replace(/\/+$/, '');
  } catch {
    throw new UsageError(`${value} is not an http(s) URL\nusage: ${usage}`);
  }
}

function timeoutMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const s = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(s > 0 && s <= 3600)) throw new UsageError(`--timeout ${value} is not a number of seconds in (0, 3600]`);
  return Math.round(s * 1000);
}

/**
 * While an attestation is outstanding, says so on stderr: one `waiting for URL …` line after a second, then one
 * every ten, so a silent pod never looks like a hung command.
 */
function reportWaiting(io: CliIo, client: SecureClient, endpoint: string, limitMs: number): void {
  let timers: ReturnType<typeof setTimeout>[] = [];
  const stop = (): void => {
    for (const t of timers) clearTimeout(t);
    timers = [];
  };
  client.on('attesting', () => {
    stop();
    const t0 = Date.now();
    timers.push(setTimeout(() => io.stderr(`waiting for ${endpoint} … (up to ${limitMs / 1000} s; Ctrl-C stops)\n`), 1000));
    for (let at = 10_000; at < limitMs; at += 10_000) {
      timers.push(setTimeout(() => io.stderr(`still waiting for ${endpoint} (${Math.round((Date.now() - t0) / 1000)} s)\n`), at));
    }
    for (const t of timers) t.unref?.();
  });
  client.on('attested', stop);
  client.on('rejected', stop);
  io.signal.addEventListener('abort', stop, { once: true });
}

/** A client whose appraisal prints each check to `print` as it completes (when given). */
export async function cliClient(
  io: CliIo,
  endpoint: string,
  values: {
    policy?: string | undefined;
    anchors?: string | undefined;
    offline?: boolean | undefined;
    'allow-unpinned'?: boolean | undefined;
    timeout?: string | undefined;
    'cache-dir'?: string | undefined;
    'no-cache'?: boolean | undefined;
  },
  print?: (line: string) => void,
): Promise<SecureClient> {
  const limit = timeoutMs(values.timeout);
  const policy = await loadPolicy(io, values.policy);
  const anchors = await loadAnchors(io, values.anchors);
  const client = createSecureClient({
    endpoint,
    anchors,
    policy,
    fetcher: values.offline ? undefined : io.fetcher,
    cache: cliCache(io, values),
    allowUnpinnedMeasurements: values['allow-unpinned'] === true,
    attestTimeoutMs: limit,
    ...(print ? { onCheck: (c) => print(formatCheck(c) + '\n') } : {}),
  });
  reportWaiting(io, client, endpoint, limit);
  return client;
}
