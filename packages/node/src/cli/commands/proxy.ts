/**
 * `ccinfer proxy`: a local OpenAI-compatible endpoint that attests the pod and relays every request to it
 * end-to-end encrypted, so any OpenAI client (any language) can use a confidential pod unchanged.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CcinferError, type SecureClient } from '@ccinfer/core';
import { parse, required } from '../args.js';
import { clientOptions, cliClient, endpointArg } from '../session.js';
import { EXIT, UsageError, type CliIo, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer proxy --endpoint URL [--listen 127.0.0.1:8787] [--policy FILE] [--anchors FILE] [--timeout SECONDS] [--offline] [--cache-dir DIR | --no-cache] [--allow-unpinned]';

const options = {
  ...clientOptions,
  endpoint: { type: 'string', arg: 'URL', help: "the pod gateway's base URL (required)" },
  listen: { type: 'string', arg: 'HOST:PORT', help: 'where the local endpoint listens; port 0 picks a free one', fallback: '127.0.0.1:8787' },
} as const satisfies FlagTable;

/** The proxy's own path: answered locally, never relayed to the pod. */
const HEALTH_PATH = '/healthz';

export function parseListen(value: string | undefined, fallback: string): { host: string; port: number } {
  const v = value ?? fallback;
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen ${v} is not HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** A busy port or an address this host does not have is the caller's to fix: a usage error, no stack. */
export function listenFailure(err: unknown, listen: { host: string; port: number }): UsageError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new UsageError(`cannot listen on ${listen.host}:${listen.port}: ${code === 'EADDRINUSE' ? 'the port is in use (pick another with --listen)' : code}`);
}

async function body(req: IncomingMessage): Promise<Uint8Array | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const parts: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

function sendJson(res: ServerResponse, status: number, contentType: string, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A failed relay as an RFC 9457 problem (`urn:ccinfer:error:<ERR_…>`, status 502) that also carries the
 * OpenAI error shape (`error.code`), so both plain HTTP clients and OpenAI SDKs see the typed code. A pod
 * that cannot be reached is `ERR_SESSION_UNREACHABLE`, not an internal error.
 */
function sendRelayProblem(res: ServerResponse, err: unknown): string {
  const code = err instanceof CcinferError ? err.code : 'ERR_INTERNAL';
  const detail = err instanceof CcinferError ? err.message : 'the proxy failed';
  if (res.headersSent) {
    res.destroy();
    return code;
  }
  sendJson(res, 502, 'application/problem+json', {
    type: `urn:ccinfer:error:${code}`,
    title: 'the attested pod could not answer',
    status: 502,
    detail,
    code,
    error: { message: `ccinfer proxy: ${code}: ${detail}`, type: 'ccinfer_error', code },
  });
  return code;
}

function handler(io: CliIo, client: SecureClient, endpoint: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = Date.now();
    const log = (outcome: string): void => io.stderr(`${new Date().toISOString()} ${req.method} ${req.url} ${outcome} ${Date.now() - t0} ms\n`);
    if (req.url === HEALTH_PATH) {
      const evidence = client.exportEvidence();
      sendJson(res, 200, 'application/json', { status: 'ok', endpoint, attestedAt: evidence?.attestedAt ?? null, tee: evidence?.document.tee ?? null });
      return;
    }
    void (async () => {
      try {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
        const b = await body(req);
        const upstream = await client.fetch(endpoint + (req.url ?? '/'), { method: req.method ?? 'GET', headers, ...(b ? { body: b as Uint8Array<ArrayBuffer> } : {}) });
        const out: Record<string, string> = {};
        upstream.headers.forEach((v, k) => (out[k] = v));
        res.writeHead(upstream.status, out);
        log(String(upstream.status));
        if (upstream.body) Readable.fromWeb(upstream.body as never).on('error', () => res.destroy()).pipe(res);
        else res.end();
      } catch (err) {
        log(`502 ${sendRelayProblem(res, err)}`);
      }
    })();
  };
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'local OpenAI-compatible endpoint relaying to an attested pod, end-to-end encrypted',
  usage,
  options,
  example: 'ccinfer proxy --endpoint http://127.0.0.1:8443 --anchors anchors.json --policy policy.json  # then OPENAI_BASE_URL=http://127.0.0.1:8787/v1',
  async run(args, io) {
    const { values } = parse(args, options, usage);
    const endpoint = endpointArg(required(values.endpoint, '--endpoint', usage), usage);
    const listen = parseListen(values.listen, '127.0.0.1:8787');
    const client = await cliClient(io, endpoint, values, io.stderr);
    await client.attest({ signal: io.signal }); // fail closed at start: nothing is served for a pod that does not appraise
    client.on('attested', () => io.stderr(`re-attested ${endpoint}\n`));
    const server = createServer(handler(io, client, endpoint));
    server.listen(listen.port, listen.host);
    try {
      await once(server, 'listening');
    } catch (err) {
      throw listenFailure(err, listen);
    }
    const a = server.address() as AddressInfo;
    io.stdout(`ccinfer proxy: http://${listen.host}:${a.port}/v1 → ${endpoint} (attested, end-to-end encrypted); health: http://${listen.host}:${a.port}${HEALTH_PATH}\n`);
    if (!io.signal.aborted) await once(io.signal, 'abort');
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    return EXIT.ACCEPTED;
  },
};
