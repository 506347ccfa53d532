/**
 * HTTP plumbing shared by the pod-side servers (gateway, key broker): bounded body reading, the hop-by-hop
 * field set, and listening / closing a server. Every body read here comes from an
 * untrusted peer, so each read has a byte limit and stops at the first byte beyond it.
 */
import { once } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { concat } from '@ccinfer/core';

export { HOP_BY_HOP } from '@ccinfer/core/internal';

/** A request or response body was larger than its limit. Callers map it to their own answer (413, KBS error). */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`bodies are limited to ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** Collects a body of at most `limit` bytes, throwing `BodyTooLarge` as soon as the total passes it. */
export async function readBody(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of boundedChunks(body, limit)) parts.push(chunk);
  // One copy that owns its buffer: the result never aliases a pooled socket buffer.
  return concat(...parts);
}

/**
 * The pieces of `body` as they arrive, throwing `BodyTooLarge` once their total passes `limit` (the rest is
 * never buffered). `received` sees the size of every piece read, the one over the limit included (counters).
 */
export async function* boundedChunks(body: AsyncIterable<Uint8Array>, limit: number, received?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    received?.(chunk.byteLength);
    if (total > limit) throw new BodyTooLarge(limit);
    yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** A streamed body paused longer than its idle limit (the peer stopped sending). */
export class BodyIdle extends Error {
  constructor(readonly idleMs: number) {
    super(`no body bytes for ${idleMs} ms`);
    this.name = 'BodyIdle';
  }
}

/**
 * The pieces of a request body, failing with `BodyIdle` when none arrives for `idleMs`: a streamed upload may
 * last as long as it keeps moving, while a peer that stops sending does not hold its slot.
 */
export async function* withIdleTimeout(req: IncomingMessage, idleMs: number): AsyncGenerator<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => req.destroy(new BodyIdle(idleMs)), idleMs);
  };
  try {
    arm();
    for await (const chunk of req as AsyncIterable<Uint8Array>) {
      clearTimeout(timer);
      yield chunk;
      arm();
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Destroys `req` unless its body has been received within `ms` (a whole-request deadline; slow senders). */
export function bodyDeadline(req: IncomingMessage, ms: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => req.destroy(), ms);
  const clear = (): void => clearTimeout(timer);
  req.once('end', clear);
  req.once('close', clear);
}

/** `http://host:port` of a listening server; IPv6 hosts in brackets (RFC 3986 §3.2.2). */
export function serverUrl(server: Server, host: string): { url: string; port: number } {
  const port = (server.address() as AddressInfo).port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port };
}

/** Starts listening and resolves once bound (rejects on a bind error such as EADDRINUSE). */
export async function listenOn(server: Server, port: number, host: string): Promise<{ url: string; port: number }> {
  server.listen(port, host);
  await once(server, 'listening');
  return serverUrl(server, host);
}

/** Closes a server, cutting idle and in-flight connections first so `close` does not wait on keep-alives. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
