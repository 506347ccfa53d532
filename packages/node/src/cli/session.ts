/** Options shared by the client commands (`attest`, `infer`, `proxy`): policy, anchors, collateral access. */
import type { SecureClient } from '@ccinfer/core';
import { createSecureClient } from '../client.js';
import { cacheOptions, cliCache, loadAnchors, loadPolicy } from './args.js';
import { formatCheck } from './format.js';
import { UsageError, type CliIo } from './types.js';

export const clientOptions = {
  policy: { type: 'string' },
  anchors: { type: 'string' },
  offline: { type: 'boolean' },
  'allow-unpinned': { type: 'boolean' },
  ...cacheOptions,
} as const;

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

/** A client whose appraisal prints each check to `print` as it completes (when given). */
export async function cliClient(
  io: CliIo,
  endpoint: string,
  values: {
    policy?: string | undefined;
    anchors?: string | undefined;
    offline?: boolean | undefined;
    'allow-unpinned'?: boolean | undefined;
    'cache-dir'?: string | undefined;
    'no-cache'?: boolean | undefined;
  },
  print?: (line: string) => void,
): Promise<SecureClient> {
  const policy = await loadPolicy(io, values.policy);
  const anchors = await loadAnchors(io, values.anchors);
  return createSecureClient({
    endpoint,
    anchors,
    policy,
    fetcher: values.offline ? undefined : io.fetcher,
    cache: cliCache(io, values),
    allowUnpinnedMeasurements: values['allow-unpinned'] === true,
    ...(print ? { onCheck: (c) => print(formatCheck(c) + '\n') } : {}),
  });
}
