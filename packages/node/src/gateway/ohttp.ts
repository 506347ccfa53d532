/**
 * `POST /.well-known/ccinfer/ohttp`: Oblivious HTTP requests to the attested key. Chunked OHTTP
 * (`message/ohttp-chunked-req`, draft-ietf-ohai-chunked-ohttp) is decrypted as it arrives and the upstream
 * response is sealed chunk by chunk as it streams, so SSE tokens reach the client as they are produced. Plain
 * RFC 9458 (`message/ohttp-req`) is buffered both ways, with a response size bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CcinferError,
  ChunkedRequestDecoder,
  CHUNK_SIZE,
  concat,
  decapsulateRequest,
  decodeRequest,
  encodeResponse,
  MEDIA_TYPE_CHUNKED_REQUEST,
  MEDIA_TYPE_CHUNKED_RESPONSE,
  MEDIA_TYPE_REQUEST,
  MEDIA_TYPE_RESPONSE,
  utf8,
  type BhttpRequest,
  type KeyLookup,
  type SessionCrypto,
} from '@ccinfer/core';
import { encodeContentChunk, encodeResponseEnd, encodeResponseHead, KEY_CONFIG_HEADER } from '@ccinfer/core/internal';
import { BodyTooLarge, boundedChunks, readBody } from '../http.js';
import { problemJson, sendProblem } from './problem.js';
import type { PeerForwarder } from './peers.js';
import { sendBusy, Slots, type GatewayLog } from './slots.js';
import { responseFields, type Forward } from './upstream.js';

export interface OhttpHandlerOptions {
  /**
   * The key lookup for a request that names its key config by digest (`ccinfer-key-config`), or the plain
   * key-id lookup without one; `undefined` when no held key has that config (key-ring.ts).
   */
  lookupFor: (digest: string | undefined) => KeyLookup | undefined;
  /**
   * Admits an opened (authenticated) request once: `replayed` is refused as `replayed-request`, `full` (the key
   * has admitted its share) as `key-config-mismatch` — both before the upstream sees anything.
   */
  admit: (e: { keyId: number; enc: Uint8Array }) => 'fresh' | 'replayed' | 'full';
  /**
   * Forwards a request for a key config this replica does not hold to the peer replica that does (peers.ts);
   * false when none does. Absent: such a request is answered `key-config-mismatch` at once.
   */
  forwardToPeer?: PeerForwarder | undefined;
  crypto: SessionCrypto;
  forward: Forward;
  /** Largest encapsulated request accepted. */
  maxRequestBytes: number;
  /** Largest upstream response relayed as a non-chunked message. */
  maxResponseBytes: number;
  /** Requests handled at once; beyond it 503 + Retry-After. */
  maxConcurrent: number;
  /** A client that reads nothing of a streamed response for this long is disconnected. */
  writeIdleTimeoutMs: number;
  log: GatewayLog;
  stats: { ohttp: number; ohttpBytes: number; rejected: number };
}

const PROBLEM_FIELDS: [string, string][] = [['content-type', 'application/problem+json']];

export function createOhttpHandler(o: OhttpHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const slots = new Slots(o.maxConcurrent);
  const countBytes = (n: number): void => void (o.stats.ohttpBytes += n);

  /** Aborts the upstream request when the client goes away before its response is complete. */
  function upstreamSignal(res: ServerResponse): AbortSignal {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    return ac.signal;
  }

  /**
   * Writes with back-pressure. A client that disconnects never emits `drain`, so the wait also ends on
   * `close`; one that stops reading is cut off after `writeIdleTimeoutMs`.
   */
  async function write(res: ServerResponse, bytes: Uint8Array): Promise<void> {
    if (res.destroyed) throw new Error('client gone');
    if (res.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('client stopped reading')), o.writeIdleTimeoutMs);
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

  async function chunked(req: IncomingMessage, res: ServerResponse, lookup: KeyLookup): Promise<void> {
    const decoder = new ChunkedRequestDecoder(lookup, { crypto: o.crypto });
    const plain: Uint8Array[] = [];
    let inner: BhttpRequest;
    try {
      for await (const chunk of boundedChunks(req, o.maxRequestBytes, countBytes)) plain.push(...(await decoder.push(chunk)));
      plain.push(await decoder.finish());
    } catch (err) {
      return refuse(res, err);
    }
    // Only a request that opened completely (authenticated) is recorded, so nobody can burn another's `enc`.
    if (!admitted(res, decoder.encapsulation!)) return;
    try {
      inner = decodeRequest(concat(...plain));
    } catch (err) {
      return refuse(res, err);
    }
    const signal = upstreamSignal(res);
    const encoder = await decoder.responseEncoder();
    const up = await o.forward(inner, signal);
    res.writeHead(200, { 'content-type': MEDIA_TYPE_CHUNKED_RESPONSE, incremental: '?1', 'cache-control': 'no-store' });
    res.flushHeaders();
    try {
      await write(res, encoder.header());
      if ('problem' in up) {
        await write(res, await encoder.seal(encodeResponseHead(up.problem.status, PROBLEM_FIELDS), false));
        await write(res, await encoder.seal(concat(encodeContentChunk(utf8(up.problem.body)), encodeResponseEnd()), true));
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
      o.log('stream-failed', { error: (err as Error).name });
      if ('body' in up) up.body.destroy();
      res.destroy();
    }
  }

  /** Plain RFC 9458 (non-chunked) request: buffered both ways. */
  async function single(req: IncomingMessage, res: ServerResponse, lookup: KeyLookup): Promise<void> {
    let opened: Awaited<ReturnType<typeof decapsulateRequest>>;
    let inner: BhttpRequest;
    try {
      const body = await readBody(req, o.maxRequestBytes);
      countBytes(body.length);
      opened = await decapsulateRequest(lookup, body, { crypto: o.crypto });
    } catch (err) {
      return refuse(res, err);
    }
    if (!admitted(res, opened)) return;
    try {
      inner = decodeRequest(opened.request);
    } catch (err) {
      return refuse(res, err);
    }
    const up = await o.forward(inner, upstreamSignal(res));
    let message: Uint8Array;
    if ('problem' in up) {
      message = problemMessage(up.problem.status, up.problem.body);
    } else {
      try {
        // A non-chunked response is buffered whole, so its size is bounded like a request's.
        const content = await readBody(up.body, o.maxResponseBytes);
        message = encodeResponse({ informational: [], status: up.statusCode, headers: responseFields(up.headers), content, trailers: [] });
      } catch (err) {
        up.body.destroy();
        if (res.destroyed) return;
        const detail = err instanceof BodyTooLarge ? `the non-chunked response exceeds ${o.maxResponseBytes} bytes; use chunked OHTTP` : 'the upstream response failed';
        message = problemMessage(502, problemJson(502, 'upstream-unavailable', detail));
      }
    }
    const out = await opened.encapsulateResponse(message);
    res.writeHead(200, { 'content-type': MEDIA_TYPE_RESPONSE, 'cache-control': 'no-store', 'content-length': out.length });
    res.end(out);
  }

  function admitted(res: ServerResponse, e: { keyId: number; enc: Uint8Array }): boolean {
    const a = o.admit(e);
    if (a === 'fresh') return true;
    o.stats.rejected++;
    if (a === 'full') sendProblem(res, 400, 'key-config-mismatch', 'this key admits no more requests; re-attest');
    else sendProblem(res, 400, 'replayed-request', 'this encapsulated request was already received');
    return false;
  }

  function refuse(res: ServerResponse, err: unknown): void {
    o.stats.rejected++;
    if (err instanceof BodyTooLarge) return sendProblem(res, 413, 'too-large', `requests are limited to ${o.maxRequestBytes} bytes`);
    const code = err instanceof CcinferError ? err.code : 'unknown';
    o.log('request-refused', { code });
    if (code === 'ERR_OHTTP_KEY_ID' || code === 'ERR_OHTTP_SUITE') return sendProblem(res, 400, 'key-config-mismatch', 'the request is not encrypted to a current key config');
    sendProblem(res, 400, 'bad-request', 'the request could not be decapsulated');
  }

  return async (req, res) => {
    // Anyone can encrypt to the published key, so buffered request memory is bounded by a concurrency limit
    // (each request holds at most maxRequestBytes of ciphertext plus its plaintext). A streamed response holds
    // its slot to its end, so the limit is sized for streams (default 1024), not for short requests.
    if (!slots.take()) return sendBusy(res, 'requests');
    try {
      o.stats.ohttp++;
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (type !== MEDIA_TYPE_REQUEST && type !== MEDIA_TYPE_CHUNKED_REQUEST) return sendProblem(res, 415, 'unsupported-media-type', `expected ${MEDIA_TYPE_CHUNKED_REQUEST}`);
      // A request naming a key config this gateway does not hold (restarted, rotated past its grace period) is
      // refused before any byte is decrypted, so the client knows it may re-attest and send it again.
      const named = req.headers[KEY_CONFIG_HEADER];
      const lookup = Array.isArray(named) ? undefined : o.lookupFor(named);
      // Another replica's key (docs/architecture.md "Replicas"): relayed to it still encrypted.
      if (!lookup && typeof named === 'string' && o.forwardToPeer && (await o.forwardToPeer(req, res, named))) return;
      if (!lookup) {
        o.stats.rejected++;
        o.log('request-refused', { code: 'key-config-unknown' });
        req.resume();
        return sendProblem(res, 400, 'key-config-mismatch', 'the request is not encrypted to a key config this gateway holds');
      }
      return type === MEDIA_TYPE_REQUEST ? await single(req, res, lookup) : await chunked(req, res, lookup);
    } finally {
      slots.release();
    }
  };
}

function problemMessage(status: number, body: string): Uint8Array {
  return encodeResponse({ informational: [], status, headers: PROBLEM_FIELDS, content: utf8(body), trailers: [] });
}
