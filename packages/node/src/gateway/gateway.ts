/**
 * The pod gateway (docs/architecture.md "Data flow", docs/wire-protocol.md "Endpoints"): a sidecar inside the confidential VM that
 *  - holds the HPKE key pair in memory (generated at start, private half never extractable),
 *  - answers `POST /.well-known/ccinfer/attest` with an evidence bundle bound to the client's nonce and key,
 *    with the vendor collateral it lacks attached when `attachCollateral` is on (collateral.ts),
 *  - opens chunked OHTTP requests on `POST /.well-known/ccinfer/ohttp`, forwards the inner request to the
 *    upstream OpenAI-compatible server with undici, and seals the upstream response chunk by chunk as it
 *    streams, so SSE tokens reach the client as they are produced,
 *  - serves `GET /.well-known/ohttp-keys` (convenience; clients trust keys only from appraised bundles) and
 *    `GET /healthz`.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as undiciRequest, type Dispatcher } from 'undici';
import {
  CcinferError,
  ChunkedRequestDecoder,
  CHUNK_SIZE,
  concat,
  decapsulateRequest,
  decodeAttestRequest,
  decodeRequest,
  encodeBundle,
  encodeContentChunk,
  encodeKeyConfigList,
  encodeResponse,
  encodeResponseEnd,
  encodeResponseHead,
  generateGatewayKey,
  MEDIA_TYPE_CHUNKED_REQUEST,
  MEDIA_TYPE_CHUNKED_RESPONSE,
  MEDIA_TYPE_REQUEST,
  MEDIA_TYPE_RESPONSE,
  utf8,
  type BhttpRequest,
  type Fields,
  type GatewayKey,
  type SessionCrypto,
} from '@ccinfer/core';
import { nodeSessionCrypto } from '../session-crypto.js';
import { createCollateralAttacher, type CollateralAttacher, type CollateralAttacherOptions } from './collateral.js';
import type { EvidenceProvider } from './evidence/provider.js';
import { problemJson, sendProblem } from './problem.js';
import { ReplayGuard } from './replay.js';

export interface GatewayOptions {
  /** Base URL of the OpenAI-compatible server, e.g. `http://127.0.0.1:8000`. */
  upstream: string;
  evidence: EvidenceProvider;
  /** Largest encapsulated request accepted. Default 8 MiB. */
  maxRequestBytes?: number;
  /** Time allowed to receive a whole request. Default 60 s. */
  requestTimeoutMs?: number;
  /** Time allowed for the upstream's response head, and between upstream body chunks. Default 120 s. */
  upstreamTimeoutMs?: number;
  /** Time allowed to collect evidence. Default 30 s. */
  evidenceTimeoutMs?: number;
  /** HPKE / AES-GCM primitives. Default node:crypto (`nodeSessionCrypto`). */
  crypto?: SessionCrypto;
  /** Undici dispatcher for the upstream (tests, connection pools). */
  dispatcher?: Dispatcher;
  /** Logger for operational events; never receives plaintext. */
  log?: (event: string, detail?: Record<string, unknown>) => void;
  /**
   * Web origins allowed to call the gateway from a page (CORS), e.g. `https://app.example`, or `*`. Default
   * none. Allowing an origin grants no access to plaintext: the page still appraises the pod and encrypts to the
   * attested key; CORS only lets the browser deliver the (encrypted) exchange.
   */
  corsOrigins?: readonly string[];
  /**
   * Path prefixes of the upstream that clients may reach (default `['/v1/']`, the OpenAI-compatible API): an
   * attested client still must not reach the model server's admin, metrics or debug endpoints.
   */
  allowedPathPrefixes?: readonly string[];
  /** OHTTP requests handled at once (each buffers up to maxRequestBytes); beyond it 503 + Retry-After. Default 32. */
  maxConcurrentRequests?: number;
  /** Largest upstream response relayed as a non-chunked (RFC 9458) message. Default 16 MiB. */
  maxResponseBytes?: number;
  /** A client that reads nothing of a streamed response for this long is disconnected. Default 60 s. */
  writeIdleTimeoutMs?: number;
  /**
   * Evidence collections running at once (each asks the CPU and every GPU for a signed report). Beyond it an
   * attest gets 503 with Retry-After, so a flood of attests cannot queue up GPU work. Default 8.
   */
  maxConcurrentAttests?: number;
  /**
   * Fetch the vendor collateral bundles lack (SNP CRL, Intel PCS collateral, NVIDIA RIMs and OCSP) and attach
   * it (collateral.ts), so clients without vendor access — browsers — can appraise the pod: `true`, attacher
   * options, or an attacher. Default: on for the `configfs` provider (real hardware, whose bundles carry
   * none), off for others (the simulated provider attaches its own).
   */
  attachCollateral?: boolean | CollateralAttacherOptions | CollateralAttacher;
  /**
   * Requests one key admits before the gateway rotates to a new one (keeping the old one for requests in
   * flight). Every admitted request's HPKE `enc` is remembered for the life of its key to refuse replays
   * (replay.ts), so this bounds that memory: about 100 bytes per request, two keys at most. Default 262144.
   */
  maxRequestsPerKey?: number;
}

export interface Gateway {
  readonly server: Server;
  /** Current key (the one attest binds). */
  readonly key: GatewayKey;
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  /**
   * Replaces the key. With `keepPrevious`, requests to the old key still open (a grace period for requests
   * in flight); without it they get `key-config-mismatch` and clients re-attest.
   */
  rotateKey(options?: { keepPrevious?: boolean }): Promise<GatewayKey>;
  /** Counters for tests and metrics. */
  readonly stats: { attest: number; ohttp: number; ohttpBytes: number; rejected: number; replayed: number };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);
const ATTEST = '/.well-known/ccinfer/attest';
const OHTTP = '/.well-known/ccinfer/ohttp';

class TooLarge extends Error {}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const upstream = new URL(options.upstream);
  const maxRequestBytes = options.maxRequestBytes ?? 8 * 1024 * 1024;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 120_000;
  const evidenceTimeoutMs = options.evidenceTimeoutMs ?? 30_000;
  const log = options.log ?? (() => undefined);
  const crypto = options.crypto ?? nodeSessionCrypto;
  const attach = options.attachCollateral ?? (options.evidence.name === 'configfs' || options.evidence.name === 'coco');
  const attacher: CollateralAttacher | undefined =
    attach === false ? undefined : attach === true ? createCollateralAttacher({ log }) : 'attach' in attach ? attach : createCollateralAttacher({ log, ...attach });
  let nextKeyId = 1;
  let current = await generateGatewayKey(nextKeyId++ & 0xff);
  let previous: GatewayKey | undefined;
  const stats = { attest: 0, ohttp: 0, ohttpBytes: 0, rejected: 0, replayed: 0 };
  const replay = new ReplayGuard(options.maxRequestsPerKey ?? 1 << 18);
  let rotating: Promise<GatewayKey> | undefined;
  const lookup = (id: number): GatewayKey | undefined => (id === current.config.keyId ? current : id === previous?.config.keyId ? previous : undefined);

  async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > max) throw new TooLarge();
      parts.push(chunk);
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  const allowedPathPrefixes = options.allowedPathPrefixes ?? ['/v1/'];
  const maxAttests = options.maxConcurrentAttests ?? 8;
  let attesting = 0;
  const maxConcurrentRequests = options.maxConcurrentRequests ?? 32;
  let inFlight = 0;
  const maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const writeIdleTimeoutMs = options.writeIdleTimeoutMs ?? 60_000;

  async function attest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.attest++;
    // The request is read before a slot is taken: a client that sends headers and then nothing must not hold
    // one of the few evidence-collection slots while the request timeout runs.
    let nonce: Uint8Array;
    try {
      nonce = decodeAttestRequest(await readBody(req, 256)).nonce;
    } catch (err) {
      return sendProblem(res, err instanceof TooLarge ? 413 : 400, err instanceof TooLarge ? 'too-large' : 'bad-request', 'not a ccinfer/1 attest request');
    }
    if (attesting >= maxAttests) {
      res.setHeader('retry-after', '1');
      return sendProblem(res, 503, 'evidence-unavailable', 'too many attestations in progress; retry shortly');
    }
    attesting++;
    try {
      await attestOne(nonce, res);
    } finally {
      attesting--;
    }
  }

  async function attestOne(nonce: Uint8Array, res: ServerResponse): Promise<void> {
    const key = current;
    let bundle: Uint8Array;
    try {
      const evidence = await withTimeout(options.evidence.collect({ nonce, keyConfig: key.encoded }), evidenceTimeoutMs, 'evidence collection timed out');
      // After the binding is computed, and outside it: collateral is vendor-signed, not vouched for by the pod.
      bundle = encodeBundle(attacher ? await attacher.attach(evidence) : evidence);
    } catch (err) {
      log('evidence-failed', { code: err instanceof CcinferError ? err.code : 'unknown' });
      return sendProblem(res, 503, 'evidence-unavailable', 'evidence could not be collected');
    }
    res.writeHead(200, { 'content-type': 'application/cbor', 'cache-control': 'no-store', 'content-length': bundle.length });
    res.end(bundle);
  }

  /** Forwards the decrypted request; resolves with the upstream response or an inner problem response. */
  async function forward(inner: BhttpRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData | { problem: { status: number; body: string } }> {
    const target = upstreamTarget(upstream, inner.path);
    if (!target) {
      return { problem: { status: 400, body: problemJson(400, 'bad-request', 'the inner request path must be origin-form') } };
    }
    if (!allowedPathPrefixes.some((p) => target.pathname.startsWith(p))) {
      return { problem: { status: 404, body: problemJson(404, 'not-found', 'this path is not served through the gateway') } };
    }
    const headers: Record<string, string> = {};
    for (const [n, v] of inner.headers) if (!HOP_BY_HOP.has(n)) headers[n] = headers[n] === undefined ? v : `${headers[n]}, ${v}`;
    try {
      return await undiciRequest(target, {
        method: inner.method as Dispatcher.HttpMethod,
        headers,
        ...(inner.content.length > 0 || !['GET', 'HEAD'].includes(inner.method) ? { body: Buffer.from(inner.content.buffer, inner.content.byteOffset, inner.content.byteLength) } : {}),
        headersTimeout: upstreamTimeoutMs,
        bodyTimeout: upstreamTimeoutMs,
        signal,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
    } catch (err) {
      log('upstream-failed', { error: (err as Error).name });
      const timeout = (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
      return { problem: { status: timeout ? 504 : 502, body: problemJson(timeout ? 504 : 502, timeout ? 'timeout' : 'upstream-unavailable', 'the model server is unavailable') } };
    }
  }

  function responseFields(h: Dispatcher.ResponseData['headers']): Fields {
    const out: Fields = [];
    for (const [n, v] of Object.entries(h)) {
      if (HOP_BY_HOP.has(n) || v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) out.push([n, x]);
    }
    return out;
  }

  /**
   * Writes with back-pressure. A client that disconnects never emits `drain`, so the wait also ends on
   * `close`; one that stops reading is cut off after `writeIdleTimeoutMs`.
   */
  async function write(res: ServerResponse, bytes: Uint8Array): Promise<void> {
    if (res.destroyed) throw new Error('client gone');
    if (res.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('client stopped reading')), writeIdleTimeoutMs);
      const onDrain = (): void => done();
      const onClose = (): void => done(new Error('client gone'));
      function done(err?: Error): void {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
        if (err) reject(err);
        else resolve();
      }
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  }

  async function ohttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Anyone can encrypt to the published key, so buffered request memory is bounded by a concurrency limit
    // (each request holds at most maxRequestBytes of ciphertext plus its plaintext).
    if (inFlight >= maxConcurrentRequests) {
      res.setHeader('retry-after', '1');
      return sendProblem(res, 503, 'upstream-unavailable', 'too many requests in progress; retry shortly');
    }
    inFlight++;
    try {
      await ohttpOne(req, res);
    } finally {
      inFlight--;
    }
  }

  async function ohttpOne(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.ohttp++;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type === MEDIA_TYPE_REQUEST) return ohttpSingle(req, res);
    if (type !== MEDIA_TYPE_CHUNKED_REQUEST) return sendProblem(res, 415, 'unsupported-media-type', `expected ${MEDIA_TYPE_CHUNKED_REQUEST}`);
    const decoder = new ChunkedRequestDecoder(lookup, { crypto });
    const plain: Uint8Array[] = [];
    let n = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        n += chunk.length;
        stats.ohttpBytes += chunk.length;
        if (n > maxRequestBytes) throw new TooLarge();
        plain.push(...(await decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))));
      }
      plain.push(await decoder.finish());
    } catch (err) {
      return refuse(res, err);
    }
    // Only a request that opened completely (authenticated) is recorded, so nobody can burn another's `enc`.
    if (!admitOnce(res, decoder.encapsulation!)) return;
    let inner: BhttpRequest;
    try {
      inner = decodeRequest(concat(...plain));
    } catch (err) {
      return refuse(res, err);
    }
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const encoder = await decoder.responseEncoder();
    const up = await forward(inner, ac.signal);
    res.writeHead(200, { 'content-type': MEDIA_TYPE_CHUNKED_RESPONSE, incremental: '?1', 'cache-control': 'no-store' });
    res.flushHeaders();
    try {
      await write(res, encoder.header());
      if ('problem' in up) {
        const body = utf8(up.problem.body);
        await write(res, await encoder.seal(encodeResponseHead(up.problem.status, [['content-type', 'application/problem+json']]), false));
        await write(res, await encoder.seal(concat(encodeContentChunk(body), encodeResponseEnd()), true));
        res.end();
        return;
      }
      await write(res, await encoder.seal(encodeResponseHead(up.statusCode, responseFields(up.headers)), false));
      // Each upstream piece is sealed and written as soon as it arrives (no buffering), split at CHUNK_SIZE.
      for await (const piece of up.body as AsyncIterable<Buffer>) {
        for (let at = 0; at < piece.length; at += CHUNK_SIZE) {
          const part = new Uint8Array(piece.buffer, piece.byteOffset + at, Math.min(CHUNK_SIZE, piece.length - at));
          await write(res, await encoder.seal(encodeContentChunk(part), false));
        }
      }
      await write(res, await encoder.seal(encodeResponseEnd(), true));
      res.end();
    } catch (err) {
      // Mid-stream failure: no final chunk is sent, so the client sees a truncated (rejected) response.
      log('stream-failed', { error: (err as Error).name });
      up && 'body' in up && up.body.destroy();
      res.destroy();
    }
  }

  /** Plain RFC 9458 (non-chunked) request: buffered both ways. */
  async function ohttpSingle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let opened: Awaited<ReturnType<typeof decapsulateRequest>>;
    let inner: BhttpRequest;
    try {
      const body = await readBody(req, maxRequestBytes);
      stats.ohttpBytes += body.length;
      opened = await decapsulateRequest(lookup, body, { crypto });
      inner = decodeRequest(opened.request);
    } catch (err) {
      return refuse(res, err);
    }
    if (!admitOnce(res, opened)) return;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const up = await forward(inner, ac.signal);
    let message: Uint8Array;
    if ('problem' in up) {
      message = encodeResponse({ informational: [], status: up.problem.status, headers: [['content-type', 'application/problem+json']], content: utf8(up.problem.body), trailers: [] });
    } else {
      // A non-chunked response is buffered whole, so its size is bounded like a request's.
      const parts: Uint8Array[] = [];
      let size = 0;
      try {
        for await (const piece of up.body as AsyncIterable<Buffer>) {
          size += piece.length;
          if (size > maxResponseBytes) throw new TooLarge();
          parts.push(new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength));
        }
      } catch (err) {
        up.body.destroy();
        if (res.destroyed) return;
        const tooLarge = err instanceof TooLarge;
        message = encodeResponse({ informational: [], status: 502, headers: [['content-type', 'application/problem+json']], content: utf8(problemJson(502, 'upstream-unavailable', tooLarge ? `the non-chunked response exceeds ${maxResponseBytes} bytes; use chunked OHTTP` : 'the upstream response failed')), trailers: [] });
        const out = await opened.encapsulateResponse(message);
        res.writeHead(200, { 'content-type': MEDIA_TYPE_RESPONSE, 'cache-control': 'no-store', 'content-length': out.length });
        res.end(out);
        return;
      }
      message = encodeResponse({ informational: [], status: up.statusCode, headers: responseFields(up.headers), content: concat(...parts), trailers: [] });
    }
    const out = await opened.encapsulateResponse(message);
    res.writeHead(200, { 'content-type': MEDIA_TYPE_RESPONSE, 'cache-control': 'no-store', 'content-length': out.length });
    res.end(out);
  }

  /**
   * Admits an opened request once (replay.ts). A repeat is refused before it reaches the upstream; a key that
   * has admitted its share answers `key-config-mismatch` (the client re-attests to the next key), and the
   * current key is rotated as it fills, keeping it for requests already in flight.
   */
  function admitOnce(res: ServerResponse, e: { keyId: number; enc: Uint8Array }): boolean {
    const a = replay.admit(e.keyId, e.enc);
    if (a === 'fresh' && e.keyId === current.config.keyId && replay.count(e.keyId) >= replay.maxPerKey) {
      rotating ??= rotate({ keepPrevious: true }).finally(() => (rotating = undefined));
      rotating.catch((err: unknown) => log('key-rotation-failed', { error: (err as Error).name }));
    }
    if (a === 'fresh') return true;
    stats.rejected++;
    if (a === 'full') {
      sendProblem(res, 400, 'key-config-mismatch', 'this key admits no more requests; re-attest');
      return false;
    }
    stats.replayed++;
    log('request-replayed', { keyId: e.keyId });
    sendProblem(res, 400, 'replayed-request', 'this encapsulated request was already received');
    return false;
  }

  async function rotate(o: { keepPrevious?: boolean }): Promise<GatewayKey> {
    const next = await generateGatewayKey(nextKeyId++ & 0xff);
    // Retired keys open nothing any more, so their replay records go; a reused key id starts empty.
    for (const k of [previous, o.keepPrevious ? undefined : current]) if (k) replay.forget(k.config.keyId);
    replay.forget(next.config.keyId);
    previous = o.keepPrevious ? current : undefined;
    current = next;
    log('key-rotated', { keyId: next.config.keyId });
    return next;
  }

  function refuse(res: ServerResponse, err: unknown): void {
    stats.rejected++;
    if (err instanceof TooLarge) return sendProblem(res, 413, 'too-large', `requests are limited to ${maxRequestBytes} bytes`);
    const code = err instanceof CcinferError ? err.code : 'unknown';
    log('request-refused', { code });
    if (code === 'ERR_OHTTP_KEY_ID' || code === 'ERR_OHTTP_SUITE') return sendProblem(res, 400, 'key-config-mismatch', 'the request is not encrypted to a current key config');
    sendProblem(res, 400, 'bad-request', 'the request could not be decapsulated');
  }

  const corsOrigins = options.corsOrigins ?? [];
  /** CORS (Fetch standard §3.2): headers for an allowed Origin; a preflight is answered here. */
  function cors(req: IncomingMessage, res: ServerResponse, path: string | undefined): boolean {
    const origin = req.headers.origin;
    if (!origin || corsOrigins.length === 0 || (path !== ATTEST && path !== OHTTP && path !== '/.well-known/ohttp-keys')) return false;
    if (!corsOrigins.includes('*') && !corsOrigins.includes(origin)) return false;
    res.setHeader('access-control-allow-origin', corsOrigins.includes('*') ? '*' : origin);
    res.setHeader('vary', 'Origin');
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204, {
      'access-control-allow-methods': path === '/.well-known/ohttp-keys' ? 'GET' : 'POST',
      'access-control-allow-headers': 'content-type, accept, incremental',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (cors(req, res, path)) return;
    if (path === ATTEST || path === OHTTP) {
      if (req.method !== 'POST') return sendProblem(res, 405, 'method-not-allowed', 'use POST');
      return path === ATTEST ? attest(req, res) : ohttp(req, res);
    }
    if (path === '/.well-known/ohttp-keys' && req.method === 'GET') {
      const body = encodeKeyConfigList([current.config]);
      res.writeHead(200, { 'content-type': 'application/ohttp-keys', 'cache-control': 'no-store', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (path === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    sendProblem(res, 404, 'not-found', 'no such endpoint');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log('internal-error', { error: (err as Error).name });
      sendProblem(res, 500, 'internal-error', 'internal error');
    });
  });
  server.requestTimeout = options.requestTimeoutMs ?? 60_000;

  return {
    server,
    get key() {
      return current;
    },
    stats,
    async listen(port = 0, host = '127.0.0.1') {
      server.listen(port, host);
      await once(server, 'listening');
      const a = server.address() as AddressInfo;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`, port: a.port };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    rotateKey: (o = {}) => rotate(o),
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The upstream URL for an inner request path, or undefined when the path is not plain origin-form
 * (RFC 9112 §3.2.1). The path comes from an attested but otherwise untrusted client: URL parsing would
 * resolve `/\\host/…` or paths with tabs and newlines to other hosts (cloud metadata, cluster services), so
 * only printable ASCII without backslashes is accepted, and the result must stay on the upstream's origin.
 */
export function upstreamTarget(upstream: URL, path: string): URL | undefined {
  if (!path.startsWith('/') || path.startsWith('//') || !/^[\x21-\x7e]+$/.test(path) || path.includes('\\')) return undefined;
  const url = new URL(upstream.origin + path);
  return url.origin === upstream.origin ? url : undefined;
}
