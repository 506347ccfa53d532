/**
 * The floor of any gateway hop, for bench/cases/gateway.ts: a bare HTTP relay (a node:http server, an undici
 * keep-alive pool to the upstream, the response piped back as it arrives) with no crypto and no checks. What it
 * costs per request and per token is what one more HTTP/1.1 hop costs on this machine, whatever it does.
 * Run as a script (`relay-floor.ts UPSTREAM_URL`) it listens on 127.0.0.1 port 0, prints its URL, and exits when
 * its stdin closes.
 */
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Pool, type Dispatcher } from 'undici';
import { listenUpstream } from './sse-upstream.js';

export function relayServer(upstream: string): Server {
  const pool = new Pool(upstream, { connections: 1024, keepAliveTimeout: 60_000 });
  return createServer((req, res) => {
    const headers = { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' };
    pool.request({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers, body: req }).then(
      (up) => {
        res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/octet-stream') });
        up.body.pipe(res);
      },
      () => res.writeHead(502).end(),
    );
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = await listenUpstream(relayServer(process.argv[2]!));
  process.stdout.write(`listening on ${url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  // A clean exit on the bench's SIGTERM, so that `--cpu-prof` (BENCH_CHILD_NODE_FLAGS) writes its profile.
  process.once('SIGTERM', () => process.exit(0));
}
