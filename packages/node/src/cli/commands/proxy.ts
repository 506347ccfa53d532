/**
 * `ccinfer proxy`: a local OpenAI-compatible endpoint that attests the pod and relays every request to it
 * end-to-end encrypted, so any OpenAI client (any language) can use a confidential pod unchanged.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CcinferError } from '@ccinfer/core';
import { parse, required } from '../args.js';
import { clientOptions, cliClient, endpointArg } from '../session.js';
import { EXIT, UsageError, type Command } from '../types.js';

const usage = 'ccinfer proxy --endpoint URL [--listen 127.0.0.1:8787] [--policy FILE] [--anchors FILE] [--offline] [--cache-dir DIR | --no-cache] [--allow-unpinned]';

export function parseListen(value: string | undefined, fallback: string): { host: string; port: number } {
  const v = value ?? fallback;
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen ${v} is not HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

async function body(req: IncomingMessage): Promise<Uint8Array | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const parts: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'local OpenAI-compatible endpoint relaying to an attested pod, end-to-end encrypted',
  usage,
  async run(args, io) {
    const { values } = parse(args, { ...clientOptions, endpoint: { type: 'string' }, listen: { type: 'string' } }, usage);
    const endpoint = endpointArg(required(values.endpoint, '--endpoint', usage), usage);
    const listen = parseListen(values.listen, '127.0.0.1:8787');
    const client = await cliClient(io, endpoint, values, io.stderr);
    await client.attest(); // fail closed at start: nothing is served for a pod that does not appraise
    client.on('attested', () => io.stderr(`re-attested ${endpoint}\n`));
    const server = createServer((req, res) => {
      void (async () => {
        try {
          const headers = new Headers();
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
          const b = await body(req);
          const upstream = await client.fetch(endpoint + (req.url ?? '/'), { method: req.method ?? 'GET', headers, ...(b ? { body: b as Uint8Array<ArrayBuffer> } : {}) });
          const out: Record<string, string> = {};
          upstream.headers.forEach((v, k) => (out[k] = v));
          res.writeHead(upstream.status, out);
          if (upstream.body) Readable.fromWeb(upstream.body as never).on('error', () => res.destroy()).pipe(res);
          else res.end();
        } catch (err) {
          const code = err instanceof CcinferError ? err.code : 'ERR_INTERNAL';
          if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: `ccinfer proxy: ${code}`, type: 'ccinfer_error', code } }));
          } else res.destroy();
        }
      })();
    });
    server.listen(listen.port, listen.host);
    await once(server, 'listening');
    const a = server.address() as AddressInfo;
    io.stdout(`ccinfer proxy: http://${listen.host}:${a.port}/v1 → ${endpoint} (attested, end-to-end encrypted)\n`);
    if (!io.signal.aborted) await once(io.signal, 'abort');
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    return EXIT.ACCEPTED;
  },
};
