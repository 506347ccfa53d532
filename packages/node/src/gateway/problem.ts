/**
 * Errors the gateway answers before (or instead of) decryption: RFC 9457 problem details with type
 * `urn:ccinfer:error:<name>` (docs/wire-protocol.md "Errors before decryption"). Never a stack trace, never evidence of what failed inside.
 */
import type { ServerResponse } from 'node:http';

export type ProblemName =
  | 'key-config-mismatch'
  | 'replayed-request'
  | 'bad-request'
  | 'too-large'
  | 'unsupported-media-type'
  | 'not-found'
  | 'method-not-allowed'
  | 'evidence-unavailable'
  | 'upstream-unavailable'
  | 'peer-unavailable'
  | 'gateway-busy'
  | 'timeout'
  | 'internal-error';

export function problemJson(status: number, name: ProblemName, title: string): string {
  return JSON.stringify({ type: `urn:ccinfer:error:${name}`, title, status });
}

export function sendProblem(res: ServerResponse, status: number, name: ProblemName, title: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = problemJson(status, name, title);
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
