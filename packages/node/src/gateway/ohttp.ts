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
  decapsulateRequest,
  decodeRequest,
  encodeResponse,
  MEDIA_TYPE_CHUNKED_REQUEST,
  MEDIA_TYPE_REQUEST,
  MEDIA_TYPE_RESPONSE,
  utf8,
  type BhttpRequest,
  type KeyLookup,
  type SessionCrypto,
} from '@ccinfer/core';
import { BhttpRequestDecoder, KEY_CONFIG_HEADER, type BhttpRequestEvent } from '@ccinfer/core/internal';
import { BodyIdle, BodyTooLarge, boundedChunks, readBody, withIdleTimeout } from '../http.js';
import { problemJson, sendProblem } from './problem.js';
import type { PeerForwarder } from './peers.js';
import { PROBLEM_FIELDS, relayChunked, upstreamSignal } from './relay.js';
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
  /** Largest encapsulated request read whole: a non-chunked (RFC 9458) request, or a chunked GET / HEAD. */
  maxRequestBytes: number;
  /** Largest chunked (streamed) encapsulated request. */
  maxBodyBytes: number;
  /** Longest pause between the pieces of a streamed request. */
  requestIdleTimeoutMs: number;
  /** Largest upstream response relayed as a non-chunked message. */
  maxResponseBytes: number;
  /** Requests handled at once; beyond it 503 + Retry-After. */
  maxConcurrent: number;
  /** A client that reads nothing of a streamed response for this long is disconnected. */
  writeIdleTimeoutMs: number;
  log: GatewayLog;
  stats: { ohttp: number; ohttpBytes: number; rejected: number };
}

const EMPTY = new Uint8Array(0);

/** A GET or HEAD request with content (RFC 9110 §9.3.1: no defined semantics; the upstream client refuses it). */
class BodyForMethod extends Error {}

export function createOhttpHandler(o: OhttpHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const slots = new Slots(o.maxConcurrent);
  const countBytes = (n: number): void => void (o.stats.ohttpBytes += n);

  /**
   * Chunked OHTTP: the inner request is decrypted chunk by chunk and its content forwarded to the upstream as it
   * arrives, pulled by the upstream connection (a slow upstream slows the client; nothing queues here). The
   * upstream request is completed only after the request's authenticated final chunk (draft §4); a request that
   * ends before it, or whose chunk fails to open, aborts the upstream request and is refused.
   */
  async function chunked(req: IncomingMessage, res: ServerResponse, lookup: KeyLookup): Promise<void> {
    const decoder = new ChunkedRequestDecoder(lookup, { crypto: o.crypto });
    const inner = new BhttpRequestDecoder();
    const source = boundedChunks(withIdleTimeout(req, o.requestIdleTimeoutMs), o.maxBodyBytes, countBytes)[Symbol.asyncIterator]();
    const events: BhttpRequestEvent[] = [];
    let complete = false; // the final chunk opened: the whole message is authentic
    /** The next event of the inner request, reading and opening chunks as needed; undefined once complete. */
    async function next(): Promise<BhttpRequestEvent | undefined> {
      while (events.length === 0) {
        if (complete) return undefined;
        const r = await source.next();
        if (r.done) {
          events.push(...inner.push(await decoder.finish()), ...inner.finish());
          complete = true;
        } else {
          for (const pt of await decoder.push(r.value)) events.push(...inner.push(pt));
        }
      }
      return events.shift();
    }
    let head: BhttpRequestEvent | undefined;
    try {
      head = await next();
    } catch (err) {
      return refuse(res, err);
    }
    if (head?.type !== 'head') return refuse(res, new Error('no request head'));
    // Recorded once the first chunk opened (so it is not a forgery under someone else's `enc`: opening needs the
    // HPKE context), and before the upstream sees anything, so a replay of a captured request never reaches it.
    if (!admitted(res, decoder.encapsulation!)) return;

    let failure: unknown;
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    let pulledToEnd = false;
    let pulling = false;
    /** The content as it is decrypted; throws (aborting the upstream request) on a truncated or forged request. */
    async function* content(): AsyncGenerator<Uint8Array> {
      pulling = true;
      try {
        for (let e = await next(); e; e = await next()) if (e.type === 'data') yield e.data;
        pulledToEnd = true;
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        settle();
      }
    }
    const ac = upstreamSignal(res);
    // GET and HEAD carry no content upstream (undici refuses a body for them): read the message to its end first.
    const bodyless = head.method === 'GET' || head.method === 'HEAD';
    let up: Awaited<ReturnType<Forward>>;
    if (bodyless) {
      try {
        for (let e = await next(); e; e = await next()) if (e.type === 'data') throw new BodyForMethod();
      } catch (err) {
        return refuse(res, err);
      }
      up = await o.forward(head, EMPTY, ac);
    } else {
      up = await o.forward(head, content(), ac);
      // The upstream may answer (or fail) before it has read the whole body; the answer still waits for the
      // request's authenticated end, read here if the upstream stopped pulling or never started.
      if (pulling) await settled;
      if (!failure && !pulledToEnd) {
        try {
          while (await next());
        } catch (err) {
          failure = err;
        }
      }
      if (failure) {
        ac.abort();
        if ('body' in up) up.body.destroy();
        o.log('request-incomplete', { code: failure instanceof CcinferError ? failure.code : (failure as Error).name });
        return refuse(res, failure);
      }
    }
    const encoder = await decoder.responseEncoder();
    await relayChunked(res, encoder, up, o);
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
    const up = await o.forward(inner, inner.content, upstreamSignal(res));
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
    // Nobody to answer: the client went away, stalled past the idle limit, or the answer had begun.
    if (res.headersSent || res.destroyed || err instanceof BodyIdle) return void res.destroy();
    if (err instanceof BodyTooLarge) {
      // Stop reading a body already over its limit: the connection closes after the answer.
      res.setHeader('connection', 'close');
      return sendProblem(res, 413, 'too-large', `requests are limited to ${err.limit} bytes`);
    }
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
