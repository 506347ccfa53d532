/**
 * A tiny OpenAI-compatible model server for the demo, examples and tests: `POST /v1/chat/completions` answers
 * a deterministic reply (JSON, or SSE token by token with `stream: true`), `GET /v1/models` lists one model,
 * `POST /v1/files` (the browser-upload example's route) counts and hashes the upload as it streams and answers
 * 201 with what arrived. It listens on loopback only.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEMO_MODEL = 'ccinfer-demo-1';

export function demoReply(prompt: string): string {
  return `Hello from inside the confidential pod. You asked: "${prompt}". This reply was encrypted to a key the hardware vouched for.`;
}

export interface ModelServer {
  server: Server;
  url: string;
  /** Every request body the model received (tests check what reached it). */
  received: string[];
  close(): Promise<void>;
}

export async function startModelServer(options: { tokenDelayMs?: number; port?: number } = {}): Promise<ModelServer> {
  const received: string[] = [];
  const delay = options.tokenDelayMs ?? 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/files') {
      // Streamed, never buffered: an upload can be as large as the gateway lets through.
      const h = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        bytes += c.length;
      });
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'file', bytes, sha256: h.digest('hex'), type: req.headers['content-type'] ?? '' }));
      });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (req.method === 'GET' && req.url === '/v1/models') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ object: 'list', data: [{ id: DEMO_MODEL, object: 'model', created: 0, owned_by: 'ccinfer' }] }));
          return;
        }
        if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
          return;
        }
        received.push(text);
        let body: { model?: string; stream?: boolean; messages?: { role: string; content: unknown }[] };
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error' } }));
          return;
        }
        const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
        const reply = demoReply(typeof last?.content === 'string' ? last.content : '');
        const model = body.model ?? DEMO_MODEL;
        const id = 'chatcmpl-ccinfer-demo';
        const created = 1_700_000_000;
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id,
              object: 'chat.completion',
              created,
              model,
              choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop', logprobs: null }],
              usage: { prompt_tokens: 8, completion_tokens: reply.split(' ').length, total_tokens: 8 + reply.split(' ').length },
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
        res.write(chunk({ role: 'assistant', content: '' }, null));
        const words = reply.split(/(?<= )/);
        for (const w of words) {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          if (res.destroyed) return;
          res.write(chunk({ content: w }, null));
        }
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
      })();
    });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
