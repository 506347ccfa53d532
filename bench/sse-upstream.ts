/**
 * The fake model server of the gateway bench (bench/cases/gateway.ts): an OpenAI-style upstream on loopback.
 * `stream: true` gets `max_tokens` (default TOKENS) SSE events 1 ms apart, then `data: [DONE]`; anything else a
 * 1 KB JSON body at once. Run as a script it listens on 127.0.0.1 port 0, prints its URL, and exits when its
 * stdin closes (the bench process ended), so it runs in its own process like a real model server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';

export const TOKENS = 16;
export const KIB = 'x'.repeat(1024);
export const DONE = 'data: [DONE]\n\n';

/** The `i`-th SSE event of a stream. */
export const event = (i: number): string => `data: {"choices":[{"delta":{"content":"t${i} "}}]}\n\n`;

/** The bytes of a whole stream of `n` tokens, to check what each path delivered. */
export const streamLength = (n: number): number => Array.from({ length: n }, (_, i) => event(i + 1).length).reduce((a, b) => a + b, DONE.length);

export function upstreamServer(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = JSON.parse(body) as { stream?: boolean; max_tokens?: number };
      if (!r.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echo: KIB }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const n = r.max_tokens ?? TOKENS;
      let i = 0;
      const tick = (): void => {
        if (i++ === n) return void res.end(DONE);
        res.write(event(i));
        setTimeout(tick, 1);
      };
      tick();
    });
  });
}

/** Listens on 127.0.0.1 port 0; resolves with the base URL. */
export async function listenUpstream(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = await listenUpstream(upstreamServer());
  process.stdout.write(`listening on ${url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  // A clean exit on the bench's SIGTERM, so that `--cpu-prof` (BENCH_CHILD_NODE_FLAGS) writes its profile.
  process.once('SIGTERM', () => process.exit(0));
}
