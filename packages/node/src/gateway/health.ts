/** `GET /healthz`: liveness only. It says nothing about the evidence, which clients appraise themselves. */
import type { ServerResponse } from 'node:http';

export function serveHealth(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\n');
}
