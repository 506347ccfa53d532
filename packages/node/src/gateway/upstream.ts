/**
 * The gateway's side of the model server: the decrypted inner request goes to the upstream OpenAI-compatible
 * server over plain HTTP inside the confidential VM (undici), and its response head comes back as Binary HTTP
 * fields. Hop-by-hop fields are dropped both ways; only allowed path prefixes are reachable.
 */
import type { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { request as undiciRequest, type Dispatcher } from 'undici';
import type { Fields } from '@ccinfer/core';
import type { BhttpRequestHead } from '@ccinfer/core/internal';
import { HOP_BY_HOP } from '../http.js';
import { problemJson } from './problem.js';
import type { GatewayLog } from './slots.js';

export interface UpstreamOptions {
  /** Base URL of the OpenAI-compatible server. */
  upstream: URL;
  /** Path prefixes clients may reach. */
  allowedPathPrefixes: readonly string[];
  /** Response-head and between-chunk timeout. */
  timeoutMs: number;
  dispatcher: Dispatcher | undefined;
  log: GatewayLog;
}

/** An answer the gateway makes itself, sealed to the client like an upstream response. */
export interface InnerProblem {
  problem: { status: number; body: string };
}

/** The upstream's response: status, head and a body stream. */
export type UpstreamResponse = Dispatcher.ResponseData;

/**
 * Forwards a decrypted request; resolves with the upstream response or an inner problem response. `body` is
 * the content, whole or as it is decrypted (an iterable that throws if the request turns out truncated or
 * forged, which aborts the upstream request: it is never completed with a partial body). `signal` cancels it:
 * an AbortSignal, or an emitter of `abort` (relay.ts `upstreamSignal`), both of which undici takes.
 */
export type Forward = (inner: BhttpRequestHead, body: Uint8Array | AsyncIterable<Uint8Array>, signal: AbortSignal | EventEmitter) => Promise<UpstreamResponse | InnerProblem>;

export function createForward(o: UpstreamOptions): Forward {
  return async (inner, body, signal) => {
    const target = upstreamTarget(o.upstream, inner.path);
    if (!target) {
      return { problem: { status: 400, body: problemJson(400, 'bad-request', 'the inner request path must be origin-form') } };
    }
    // An attested client still must not reach the model server's admin, metrics or debug endpoints.
    if (!o.allowedPathPrefixes.some((p) => target.pathname.startsWith(p))) {
      return { problem: { status: 404, body: problemJson(404, 'not-found', 'this path is not served through the gateway') } };
    }
    const headers: Record<string, string> = {};
    for (const [n, v] of inner.headers) if (!HOP_BY_HOP.has(n)) headers[n] = headers[n] === undefined ? v : `${headers[n]}, ${v}`;
    try {
      return await undiciRequest(target, {
        method: inner.method as Dispatcher.HttpMethod,
        headers,
        ...(body instanceof Uint8Array ? (body.length > 0 || !['GET', 'HEAD'].includes(inner.method) ? { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) } : {}) : { body: Readable.from(body, { objectMode: false }) }),
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
        signal,
        ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      });
    } catch (err) {
      o.log('upstream-failed', { error: (err as Error).name });
      const timeout = (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
      return { problem: { status: timeout ? 504 : 502, body: problemJson(timeout ? 504 : 502, timeout ? 'timeout' : 'upstream-unavailable', 'the model server is unavailable') } };
    }
  };
}

/** The upstream response's header fields for the inner (Binary HTTP) response, without hop-by-hop ones. */
export function responseFields(h: UpstreamResponse['headers']): Fields {
  const out: Fields = [];
  for (const [n, v] of Object.entries(h)) {
    if (HOP_BY_HOP.has(n) || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) out.push([n, x]);
  }
  return out;
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
