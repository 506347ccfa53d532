/**
 * CORS for the gateway's three public endpoints (Fetch standard §3.2 "CORS protocol"). Allowing an origin grants
 * no access to plaintext: the page still appraises the pod and encrypts to the attested key; CORS only lets the
 * browser deliver the (encrypted) exchange.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KEY_CONFIG_HEADER } from '@ccinfer/core/internal';

/**
 * Adds the CORS response headers for an allowed `Origin` on one of `paths`, and answers a preflight (`OPTIONS`)
 * itself. Returns true when the request was answered (a preflight), false when routing continues.
 */
export type CorsHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** `origins`: allowed origins, or `*`; none disables CORS. `getOnly`: the paths served with GET, not POST. */
export function createCorsHandler(origins: readonly string[], paths: readonly string[], getOnly: readonly string[]): CorsHandler {
  return (req, res, path) => {
    const origin = req.headers.origin;
    if (!origin || origins.length === 0 || !paths.includes(path)) return false;
    if (!origins.includes('*') && !origins.includes(origin)) return false;
    res.setHeader('access-control-allow-origin', origins.includes('*') ? '*' : origin);
    res.setHeader('vary', 'Origin');
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204, {
      'access-control-allow-methods': getOnly.includes(path) ? 'GET' : 'POST',
      // ccinfer-key-config: the digest of the key config a request is sealed to (replicas, restarts).
      'access-control-allow-headers': `content-type, accept, incremental, ${KEY_CONFIG_HEADER}`,
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  };
}
