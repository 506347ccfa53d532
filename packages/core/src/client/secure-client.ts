/**
 * SecureClient: attest, then talk to a confidential pod end-to-end encrypted (docs/wire-protocol.md "The client's sequence").
 *
 * Fail closed: the only bytes that leave the client before an appraisal passes are the attest request (a
 * fresh nonce). Requests are encrypted to the key config returned by the injected `appraise` — the key the
 * hardware evidence is bound to — never to a key fetched on the side.
 */
// The named export: a default import of this CommonJS-typed module is the module object under node16 ESM.
import { EventEmitter } from 'eventemitter3';
import { fromUtf8, toHex } from '../bytes.js';
import { randomBytes } from '../crypto.js';
import type { VerificationDocument } from '../document.js';
import { CcinferError, ConfigError, SessionError, TransportError, VerificationError } from '../errors.js';
import { fetchBytes, systemClock, type Clock, type Fetcher } from '../runtime.js';
import { BhttpResponseDecoder, encodeRequest, HOP_BY_HOP, type BhttpRequestHead, type Fields } from '../session/bhttp.js';
import { encryptRequestStream, type BodySource } from '../session/request-stream.js';
import { encodeAttestRequest, NONCE_LENGTH } from '../session/bundle.js';
import { KEY_CONFIG_HEADER, keyConfigDigest, parseKeyConfig, type KeyConfig } from '../session/keyconfig.js';
import { webCryptoSessionCrypto, type SessionCrypto } from '../session/backend.js';
import { ChunkedRequestEncoder, MEDIA_TYPE_CHUNKED_REQUEST, MEDIA_TYPE_CHUNKED_RESPONSE, readResponseChunks, type ChunkedResponseDecoder } from '../session/ohttp.js';
import { parseSse, type SseEvent } from './sse.js';
import { asCompletion, type ChatCompletion, type ChatCompletionChunk, type ChatCompletionRequest } from './chat.js';

export const ATTEST_PATH = '/.well-known/ccinfer/attest';
export const OHTTP_PATH = '/.well-known/ccinfer/ohttp';
export const PROBLEM_PREFIX = 'urn:ccinfer:error:';

/** What an appraiser returns for accepted evidence: the document plus the key config the evidence binds. */
export type AttestedDocument = VerificationDocument & { keyConfig: Uint8Array };

/** Appraises a raw evidence bundle (CBOR) against the client's nonce. Throws or returns `ok: false` to refuse. */
export type Appraiser = (bundle: Uint8Array, nonce: Uint8Array) => Promise<AttestedDocument>;

export interface SecureClientOptions {
  /** Base URL of the pod's gateway, e.g. `https://pod.example`. */
  endpoint: string;
  appraise: Appraiser;
  fetch?: Fetcher;
  clock?: Clock;
  /** How long an accepted appraisal is reused. Default 3600 s (docs/policy.md `freshness`). */
  maxEvidenceAgeSeconds?: number;
  /** Path of chat completions inside the pod for {@link SecureClient.infer}. Default `/v1/chat/completions`. */
  inferPath?: string;
  /** Bound on the evidence bundle read from the pod. Default 8 MiB. */
  maxBundleBytes?: number;
  /**
   * The whole attest request's deadline, its one retry included (a refused connection, a timeout, a 429 or 5xx
   * answer is retried once after 250 ms while time is left). Default 30 s.
   */
  attestTimeoutMs?: number;
  /** HPKE / AES-GCM primitives for the session. Default WebCrypto; `@ccinfer/node` passes node:crypto. */
  crypto?: SessionCrypto;
  /**
   * Times a request is sent again when the gateway answers its own 503 `gateway-busy` (a limit reached before
   * it read the request), after its `Retry-After` (waiting at most 5 s). The same encapsulated
   * bytes are resent, so a gateway that refuses replays runs the request at most once. Default 2; 0 never.
   */
  maxRetries?: number;
  /** Time allowed for the gateway's answer to arrive (its status and head; a stream then flows). Default 300 s. */
  requestTimeoutMs?: number;
  /**
   * Send large and streamed request bodies as a stream of encrypted chunks (fetch with `duplex: 'half'`).
   * Default true. Browsers without request streams (Firefox, Safari; Chromium over HTTP/1.1) need false:
   * bodies are then encapsulated whole (`@ccinfer/browser` decides this for the page).
   */
  streamRequestBodies?: boolean;
  /**
   * Appraised keys kept for this endpoint (docs/architecture.md "Replicas"), most recent first, each only while
   * its appraisal is fresh. When the gateway answers `key-config-mismatch` for the key in use (the replica
   * holding it is gone), the client switches to another kept key before attesting again, so meeting replica
   * B after A costs one attestation of B, and going back to A none. Default 8 (1..64).
   */
  maxPooledKeys?: number;
}

/** The longest `Retry-After` the client waits before resending a request the gateway was too busy to take. */
const MAX_RETRY_DELAY_MS = 5_000;

export interface ExportedEvidence {
  bundle: Uint8Array;
  nonce: Uint8Array;
  document: AttestedDocument;
  attestedAt: string;
}

export interface SecureClientEvents {
  attesting: (e: { nonce: Uint8Array }) => void;
  attested: (e: { document: AttestedDocument }) => void;
  /** `bundle` is the evidence that was refused (for audit, or `ccinfer policy init` after review). */
  rejected: (e: { error: CcinferError; document?: VerificationDocument; bundle?: Uint8Array }) => void;
  rekeyed: (e: { previousKeyId: number; keyId: number }) => void;
}

interface Session {
  document: AttestedDocument;
  keyConfig: KeyConfig;
  /** `ccinfer-key-config` value: the digest of the whole key config (docs/wire-protocol.md "Key identity"). */
  keyDigest: string;
  bundle: Uint8Array;
  nonce: Uint8Array;
  attestedAt: number;
}


/** The body of {@link SecureClient.infer}: a chat completion request. */
export type ChatBody = ChatCompletionRequest;

/**
 * Attests a pod, then talks to it end-to-end encrypted (HPKE over chunked Oblivious HTTP, docs/architecture.md "Data flow").
 *
 * The first request (or `attest()`) POSTs a fresh 32-byte nonce to `ATTEST_PATH`, hands the CBOR evidence
 * bundle to the injected `appraise`, and accepts only a document with `ok: true`; requests are then encrypted to
 * the key config that document carries, never to a key obtained any other way. Before an appraisal passes the
 * pod receives nothing but the nonce; a refusal throws (`ERR_SESSION_REJECTED`, or the appraiser's own error)
 * and emits `rejected`. Concurrent callers share one attestation; an accepted appraisal is reused for
 * `maxEvidenceAgeSeconds`. When the gateway answers `key-config-mismatch` (it rotated its key, or the replica
 * holding it is gone) the client moves to another appraised key it keeps for this endpoint (`maxPooledKeys`) or
 * re-attests (`rekeyed` event), and re-sends only a request marked safe to repeat — a safe method, an
 * `Idempotency-Key` header, or `infer(…, { retryOnKeyChange: true })` — since that answer is unauthenticated and
 * the request may already have run; others fail with TransportError `ERR_SESSION_NOT_RETRIED`. A streamed reply
 * that ends before its authenticated final chunk throws `ERR_OHTTP_TRUNCATED` after the data it delivered.
 *
 * Options are checked in the constructor (ConfigError `ERR_SESSION_OPTIONS`: `endpoint` not a URL, `appraise`
 * not a function, no `fetch`). Defaults: `fetch` the global fetch; `clock` the system clock;
 * `maxEvidenceAgeSeconds` 3600; `inferPath` `/v1/chat/completions`; `maxBundleBytes` 8 MiB; `attestTimeoutMs`
 * 30 s; `crypto` WebCrypto; `maxPooledKeys` 8. `@ccinfer/node` and `@ccinfer/browser` export `createSecureClient`, which builds
 * one with `@ccinfer/verifier`'s appraisal as `appraise`; construct it directly to supply your own.
 *
 * @example
 * ```ts
 * import { SecureClient } from '@ccinfer/core';
 * import { appraise } from '@ccinfer/verifier';
 *
 * const client = new SecureClient({
 *   endpoint: 'https://pod.example',
 *   appraise: async (bundle, nonce) => {
 *     const a = await appraise(bundle, { nonce, policy, requireReferenceValues: true, fetcher: fetch });
 *     return { ...a.document, keyConfig: a.keyConfig ?? new Uint8Array(0) };
 *   },
 * });
 * client.on('rejected', ({ error }) => console.error('pod refused:', error.code));
 * const reply = await client.infer({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
 * ```
 */
export class SecureClient extends EventEmitter<SecureClientEvents> {
  private readonly opts: Required<Omit<SecureClientOptions, 'fetch'>> & { fetch: Fetcher };
  private session: Session | undefined;
  /** Appraised sessions of this endpoint, most recent first (the current one included), `maxPooledKeys` at most. */
  private pool: Session[] = [];
  private attesting: Promise<Session> | undefined;

  constructor(options: SecureClientOptions) {
    super();
    let base: URL;
    try {
      base = new URL(options.endpoint);
    } catch (cause) {
      throw new ConfigError('ERR_SESSION_OPTIONS', `endpoint "${options.endpoint}" is not a URL`, { cause, fields: ['endpoint'] });
    }
    if (typeof options.appraise !== 'function') throw new ConfigError('ERR_SESSION_OPTIONS', 'appraise must be a function', { fields: ['appraise'] });
    const f = options.fetch ?? (globalThis.fetch?.bind(globalThis) as Fetcher | undefined);
    if (!f) throw new ConfigError('ERR_SESSION_OPTIONS', 'no fetch available; pass options.fetch', { fields: ['fetch'] });
    this.opts = {
      endpoint: base.href.replace(/\/+$/, ''),
      appraise: options.appraise,
      fetch: f,
      clock: options.clock ?? systemClock,
      maxEvidenceAgeSeconds: options.maxEvidenceAgeSeconds ?? 3600,
      inferPath: options.inferPath ?? '/v1/chat/completions',
      maxBundleBytes: options.maxBundleBytes ?? 8 * 1024 * 1024,
      attestTimeoutMs: options.attestTimeoutMs ?? 30_000,
      crypto: options.crypto ?? webCryptoSessionCrypto,
      maxRetries: options.maxRetries ?? 2,
      requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
      streamRequestBodies: options.streamRequestBodies ?? true,
      maxPooledKeys: options.maxPooledKeys ?? 8,
    };
    if (!Number.isSafeInteger(this.opts.maxPooledKeys) || this.opts.maxPooledKeys < 1 || this.opts.maxPooledKeys > 64) throw new ConfigError('ERR_SESSION_OPTIONS', 'maxPooledKeys must be an integer 1..64', { fields: ['maxPooledKeys'] });
    if (!Number.isSafeInteger(this.opts.maxRetries) || this.opts.maxRetries < 0 || this.opts.maxRetries > 100) throw new ConfigError('ERR_SESSION_OPTIONS', 'maxRetries must be an integer 0..100', { fields: ['maxRetries'] });
    if (!(this.opts.requestTimeoutMs > 0)) throw new ConfigError('ERR_SESSION_OPTIONS', 'requestTimeoutMs must be positive', { fields: ['requestTimeoutMs'] });
    this.fetch = this.fetch.bind(this);
  }

  /**
   * Attests now (or reuses a fresh appraisal) and returns the verification document. `signal` aborts the
   * attest request: the promise rejects with the signal's reason (a DOMException `AbortError` by default), and
   * no `rejected` event is emitted, since nothing was refused.
   */
  async attest(options: { force?: boolean; signal?: AbortSignal } = {}): Promise<AttestedDocument> {
    return (await this.ensureSession(options.force ?? false, options.signal)).document;
  }

  /** The last accepted evidence, for audit logs: the bundle exactly as received, the nonce and the document. */
  exportEvidence(): ExportedEvidence | undefined {
    const s = this.session;
    if (!s) return undefined;
    return { bundle: s.bundle.slice(), nonce: s.nonce.slice(), document: s.document, attestedAt: new Date(s.attestedAt).toISOString() };
  }

  /** Forgets the attested keys; the next request attests again. */
  reset(): void {
    this.session = undefined;
    this.pool = [];
  }

  private fresh(s: Session | undefined): s is Session {
    return s !== undefined && this.opts.clock.now().getTime() - s.attestedAt < this.opts.maxEvidenceAgeSeconds * 1000;
  }

  private async ensureSession(force: boolean, signal: AbortSignal | undefined): Promise<Session> {
    if (!force && this.fresh(this.session)) return this.session;
    signal?.throwIfAborted();
    // Concurrent callers share one attestation; the request carries the signal of the caller that started it,
    // and every caller stops waiting when its own signal aborts.
    if (!this.attesting) {
      this.attesting = this.doAttest(signal).finally(() => {
        this.attesting = undefined;
      });
    }
    return untilAborted(this.attesting, signal);
  }

  /**
   * The session after the pod refused the key `sentTo` (which leaves the pool: its holder is gone): the one
   * another request already re-attested to (so concurrent refusals cost one attestation, not one each), else
   * another fresh appraised key from the pool (`pooled`: no attestation), else a fresh attestation.
   */
  private async rekey(sentTo: string, signal: AbortSignal | undefined): Promise<{ session: Session; pooled: boolean }> {
    this.pool = this.pool.filter((p) => p.keyDigest !== sentTo);
    if (this.attesting) await untilAborted(this.attesting.catch(() => undefined), signal);
    if (this.fresh(this.session) && this.session.keyDigest !== sentTo) return { session: this.session, pooled: false };
    const kept = this.pool.find((p) => this.fresh(p));
    if (kept) {
      const previous = this.session;
      this.session = kept;
      if (previous) this.emit('rekeyed', { previousKeyId: previous.keyConfig.keyId, keyId: kept.keyConfig.keyId });
      return { session: kept, pooled: true };
    }
    return { session: await this.ensureSession(true, signal), pooled: false };
  }

  private async doAttest(signal: AbortSignal | undefined): Promise<Session> {
    const nonce = randomBytes(NONCE_LENGTH);
    this.emit('attesting', { nonce });
    let document: AttestedDocument | undefined;
    let bundle: Uint8Array | undefined;
    try {
      const url = this.opts.endpoint + ATTEST_PATH;
      // One deadline for the request and its retry, so `attestTimeoutMs` bounds the whole wait.
      const deadline = AbortSignal.timeout(this.opts.attestTimeoutMs);
      const res = await fetchBytes(url, {
        fetcher: this.opts.fetch,
        method: 'POST',
        headers: { 'content-type': 'application/cbor', accept: 'application/cbor' },
        body: encodeAttestRequest({ v: 1, nonce }),
        maxBytes: this.opts.maxBundleBytes,
        timeoutMs: this.opts.attestTimeoutMs,
        retries: 1,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      }).catch((cause: unknown) => {
        if (signal?.aborted) throw signal.reason;
        throw attestFailure(url, cause, deadline.aborted ? this.opts.attestTimeoutMs : undefined);
      });
      if (!(res.headers.get('content-type') ?? '').startsWith('application/cbor')) {
        throw new TransportError('ERR_SESSION_NOT_A_POD', `${url} answered ${res.headers.get('content-type') || 'no content type'}, not a ccinfer evidence bundle (application/cbor)`, { status: res.status });
      }
      bundle = res.body;
      document = await this.opts.appraise(res.body, nonce);
      if (!document.ok) {
        throw new VerificationError('ERR_SESSION_REJECTED', `evidence rejected: ${document.errors.map((e) => e.code).join(', ') || 'appraisal not ok'}`, { cause: document.errors });
      }
      const keyConfig = parseKeyConfig(document.keyConfig);
      const previous = this.session;
      this.session = { document, keyConfig, keyDigest: keyConfigDigest(document.keyConfig), bundle: res.body, nonce, attestedAt: this.opts.clock.now().getTime() };
      this.pool = [this.session, ...this.pool.filter((p) => p.keyDigest !== this.session!.keyDigest)].slice(0, this.opts.maxPooledKeys);
      this.emit('attested', { document });
      if (previous && previous.keyDigest !== this.session.keyDigest) {
        this.emit('rekeyed', { previousKeyId: previous.keyConfig.keyId, keyId: keyConfig.keyId });
      }
      return this.session;
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw err; // the caller stopped waiting: nothing was refused
      const error = err instanceof CcinferError ? err : new VerificationError('ERR_SESSION_REJECTED', 'appraisal failed', { cause: err });
      this.session = undefined;
      this.emit('rejected', { error, ...(document ? { document } : {}), ...(bundle ? { bundle } : {}) });
      throw error;
    }
  }

  /**
   * A `fetch` that sends the request end-to-end encrypted to the attested pod. The URL's path and query
   * travel inside the encrypted message; the outer request always goes to the gateway's OHTTP endpoint.
   * Use it as `new OpenAI({ baseURL: endpoint + '/v1', fetch: client.fetch })`.
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return this.fetchWithProgress(input, init, undefined);
  }

  /**
   * {@link SecureClient.fetch}, reporting the content bytes of a streamed body as they are sealed (uploads'
   * progress; a body sent whole reports nothing).
   */
  protected async fetchWithProgress(input: string | URL | Request, init: RequestInit | undefined, onProgress: ((sentBytes: number) => void) | undefined): Promise<Response> {
    const streamed = this.opts.streamRequestBodies ? streamedBody(init?.body) : undefined;
    const req = new Request(input, streamed ? { ...init, body: null } : init);
    const url = new URL(req.url);
    const headers: Fields = [];
    req.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) headers.push([name, value]);
    });
    if (streamed?.type && !req.headers.has('content-type')) headers.push(['content-type', streamed.type]);
    const head: BhttpRequestHead = { method: req.method, scheme: url.protocol.replace(':', ''), authority: url.host, path: url.pathname + url.search, headers };
    // A small body is encapsulated whole (one write, and a busy retry resends the same bytes); a large or
    // streamed one is encrypted as it is sent (request-stream.ts), never held whole.
    const message = streamed ? undefined : encodeRequest({ ...head, content: new Uint8Array(await req.arrayBuffer()), trailers: [] });
    const repeatOk = repeatable(req.method, req.headers);
    const signal = init?.signal ?? undefined;
    let session = await this.ensureSession(false, signal);
    // Sent once to a key attested (or re-attested) for this request's retry: a second refusal ends it.
    let resentAfterAttest = false;
    for (;;) {
      const { outer, encoder, problem: refused } = message ? await this.sendWhole(session, message, signal) : await this.sendStream(session, head, streamed!, repeatOk, signal, onProgress);
      let problem = refused;
      const type = outer.headers.get('content-type') ?? '';
      if (outer.ok && type.startsWith(MEDIA_TYPE_CHUNKED_RESPONSE) && outer.body) {
        return responseFrom(outer.body, encoder.responseDecoder(), signal);
      }
      if (outer.ok) problem = await readProblem(outer);
      if (problem === 'key-config-mismatch') {
        // The pod restarted or rotated its key (docs/wire-protocol.md "The client's sequence", step 5):
        // re-attest once, and send again once, only to a different key: a pod that still attests the key the
        // request went to still holds it, so the refusal did not come from the key change a resend is for.
        // A key kept from an earlier appraisal (pooled) may be gone too: it is dropped, and the next one, or a
        // fresh attestation, tried — a bounded loop, since every refused key leaves the pool.
        if (resentAfterAttest) throw new TransportError('ERR_SESSION_KEY_CONFIG_MISMATCH', 'the pod refused a freshly attested key', { status: outer.status });
        const sentTo = session.keyDigest;
        const next = await this.rekey(sentTo, signal);
        session = next.session;
        resentAfterAttest = !next.pooled;
        // The answer is unauthenticated: a man-in-the-middle may have delivered the request and forged it. So
        // the request is sent again only when repeating it is harmless (a safe method, RFC 9110 §9.2.1) or the
        // caller said so (an `Idempotency-Key` header, or `infer(…, { retryOnKeyChange: true })`).
        if (!repeatOk) {
          throw new TransportError('ERR_SESSION_NOT_RETRIED', 'the gateway answered key-config-mismatch (unauthenticated: the request may have run); re-attested, but not repeating a request not marked safe to repeat', { status: outer.status });
        }
        // A one-shot body (a stream) was consumed by the first attempt and cannot be sent again.
        if (streamed && !streamed.replayable) {
          throw new TransportError('ERR_SESSION_NOT_RETRIED', 'the gateway answered key-config-mismatch; re-attested, but the request body was a one-shot stream and cannot be sent again', { status: outer.status });
        }
        if (session.keyDigest === sentTo) throw new TransportError('ERR_SESSION_KEY_CONFIG_MISMATCH', 'the pod refused the key it attests', { status: outer.status });
        continue;
      }
      if (outer.ok) throw new SessionError('ERR_SESSION_RESPONSE_TYPE', `gateway answered ${type || 'no content type'}`);
      throw new TransportError('ERR_SESSION_GATEWAY_HTTP', `gateway answered HTTP ${outer.status}${problem ? ` (${problem})` : ''}`, { status: outer.status });
    }
  }

  /**
   * Sends a whole encapsulated message. The gateway's own 503 comes before it reads the request: the same bytes
   * go again after Retry-After (a gateway that refuses replays runs them at most once).
   */
  private async sendWhole(session: Session, message: Uint8Array, signal: AbortSignal | undefined): Promise<Exchange> {
    const encoder = await ChunkedRequestEncoder.create(session.keyConfig, { crypto: this.opts.crypto });
    const body = await encoder.encapsulateAll(message);
    for (let busy = 0; ; busy++) {
      const outer = await this.post(body, session.keyDigest, signal);
      if (outer.ok) return { outer, encoder };
      const wait = retryAfterMs(outer.headers.get('retry-after'));
      const problem = await readProblem(outer);
      if (problem !== 'gateway-busy' || outer.status !== 503 || busy >= this.opts.maxRetries) return { outer, encoder, problem };
      await delay(wait, signal);
    }
  }

  /**
   * Sends a body encrypted as it is read. A streamed request cannot be resent as the same bytes, so after the
   * gateway's own 503 it is encrypted again (a new encapsulation) only when its body can be read again and the
   * request is safe to repeat, since that answer is unauthenticated too.
   */
  private async sendStream(session: Session, head: BhttpRequestHead, body: StreamedBody, repeatOk: boolean, signal: AbortSignal | undefined, onProgress: ((sentBytes: number) => void) | undefined): Promise<Exchange> {
    for (let busy = 0; ; busy++) {
      const encoder = await ChunkedRequestEncoder.create(session.keyConfig, { crypto: this.opts.crypto });
      let sent!: () => void;
      const allSent = new Promise<void>((resolve) => (sent = resolve));
      const stream = encryptRequestStream(encoder, head, body.open(), { onEnd: () => sent(), ...(onProgress ? { onProgress } : {}) });
      const outer = await this.post(stream, session.keyDigest, signal, allSent);
      if (outer.ok) return { outer, encoder };
      const wait = retryAfterMs(outer.headers.get('retry-after'));
      const problem = await readProblem(outer);
      if (problem !== 'gateway-busy' || outer.status !== 503 || busy >= this.opts.maxRetries || !body.replayable || !repeatOk) return { outer, encoder, problem };
      await delay(wait, signal);
    }
  }

  /**
   * POSTs an encapsulated request. The gateway's answer must begin within `requestTimeoutMs` of the request
   * being sent (for a streamed body: of its last chunk, so a long upload is not cut); once it has, a stream
   * may flow as long as it lasts (only the caller's signal ends it).
   */
  private async post(body: Uint8Array | ReadableStream<Uint8Array>, keyDigest: string, signal: AbortSignal | undefined, allSent?: Promise<void>): Promise<Response> {
    const ac = new AbortController();
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const startTimer = (): void => {
      if (settled) return;
      timer = setTimeout(() => {
        timedOut = true;
        ac.abort();
      }, this.opts.requestTimeoutMs);
    };
    if (allSent) void allSent.then(startTimer);
    else startTimer();
    if (signal?.aborted) ac.abort(signal.reason);
    else signal?.addEventListener('abort', () => ac.abort(signal.reason), { once: true });
    try {
      return await this.opts.fetch(this.opts.endpoint + OHTTP_PATH, {
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPE_CHUNKED_REQUEST, accept: MEDIA_TYPE_CHUNKED_RESPONSE, incremental: '?1', [KEY_CONFIG_HEADER]: keyDigest },
        body: body as Uint8Array<ArrayBuffer>,
        // The OHTTP endpoint never redirects, so a redirect is a failure rather than a resend elsewhere; and a
        // fetch with no window whose redirect mode is "error" does not clone its request (Fetch Standard,
        // "HTTP-network-or-cache fetch" step 8), which would tee the body: per request for a byte body, and for a
        // stream an unread branch that would queue the whole upload in memory. A stream body also needs half
        // duplex (Node's fetch and Chromium refuse it otherwise).
        redirect: 'error',
        window: null,
        ...(body instanceof Uint8Array ? {} : { duplex: 'half' }),
        signal: ac.signal,
      } as RequestInit);
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      // A streamed body that failed (ERR_SESSION_BODY) is the caller's problem, not the network's.
      const own = (cause as { cause?: unknown } | undefined)?.cause;
      if (own instanceof CcinferError) throw own;
      if (timedOut) throw new TransportError('ERR_SESSION_TIMEOUT', `the gateway did not answer within ${this.opts.requestTimeoutMs} ms`, { cause });
      throw new TransportError('ERR_SESSION_UNREACHABLE', `could not reach ${this.opts.endpoint + OHTTP_PATH}`, { cause });
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /**
   * OpenAI chat completions through the encrypted session. Resolves to the {@link ChatCompletion}, or with
   * `stream: true` to the {@link ChatCompletionChunk}s parsed from the SSE `data` events (until `[DONE]`).
   * A non-2xx answer is `ERR_SESSION_UPSTREAM_STATUS`; a body that is not JSON `ERR_SESSION_JSON`; JSON that is
   * not an object with a `choices` array `ERR_SESSION_COMPLETION_SHAPE`.
   */
  infer(body: ChatCompletionRequest & { stream: true }, init?: InferInit): Promise<AsyncIterable<ChatCompletionChunk>>;
  infer(body: ChatCompletionRequest & { stream?: false | undefined }, init?: InferInit): Promise<ChatCompletion>;
  infer(body: ChatCompletionRequest, init?: InferInit): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
  async infer(body: ChatCompletionRequest, init: InferInit = {}): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json' };
    if (init.retryOnKeyChange) headers[IDEMPOTENCY_KEY] = toHex(randomBytes(16));
    const res = await this.fetch(this.opts.endpoint + this.opts.inferPath, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    if (!res.ok) {
      const text = await res.text().catch(() => {
        if (init.signal?.aborted) throw init.signal.reason;
        return '';
      });
      throw new TransportError('ERR_SESSION_UPSTREAM_STATUS', `the model server answered HTTP ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
    }
    if (body.stream) return sseJson(res.body!);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new SessionError('ERR_SESSION_JSON', 'the model server did not answer JSON', { cause });
    }
    return asCompletion<ChatCompletion>(json, 'the chat completion');
  }
}

export interface InferInit {
  signal?: AbortSignal;
  /**
   * Send the request again after re-attesting when the gateway answers `key-config-mismatch`. Default false:
   * that answer is unauthenticated, so the model may already have run the request (it is then run twice).
   */
  retryOnKeyChange?: boolean;
}

/** draft-ietf-httpapi-idempotency-key-header: the caller's mark that a request may be sent more than once. */
const IDEMPOTENCY_KEY = 'idempotency-key';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

function repeatable(method: string, headers: Headers): boolean {
  return SAFE_METHODS.has(method.toUpperCase()) || headers.has(IDEMPOTENCY_KEY);
}

/** One attempt's answer: the outer response, the encoder that opens it, and a refusal's problem type. */
interface Exchange {
  outer: Response;
  encoder: ChunkedRequestEncoder;
  problem?: string | undefined;
}

/**
 * Bodies up to this size are encapsulated whole; larger byte bodies and blobs, and every stream, are encrypted
 * as they are sent. 1 MiB keeps chat requests (and their busy retries) one write while a large upload never
 * needs a second copy of itself in memory.
 */
export const STREAM_THRESHOLD = 1024 * 1024;

/** A request body to stream: `open` reads it (again, when `replayable`); `type` is a Blob's media type. */
interface StreamedBody {
  open(): BodySource;
  replayable: boolean;
  type?: string | undefined;
}

/** How `fetch` sends `body`: streamed (see {@link StreamedBody}), or undefined to encapsulate it whole. */
function streamedBody(body: BodyInit | null | undefined): StreamedBody | undefined {
  if (body === null || body === undefined || typeof body === 'string') return undefined;
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    return body.size > STREAM_THRESHOLD ? { open: () => body.stream(), replayable: true, type: body.type || undefined } : undefined;
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    return bytes.length > STREAM_THRESHOLD ? { open: () => once(bytes), replayable: true } : undefined;
  }
  if (body instanceof ReadableStream || Symbol.asyncIterator in (body as object)) {
    return { open: () => body as BodySource, replayable: false };
  }
  return undefined; // FormData, URLSearchParams: small by nature, encoded by Request
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** A `Retry-After` in delay-seconds (RFC 9110 §10.2.3), capped at MAX_RETRY_DELAY_MS; 1 s when absent or a date. */
function retryAfterMs(header: string | null): number {
  const seconds = header !== null && /^\d+$/.test(header.trim()) ? Number(header.trim()) : 1;
  return Math.min(seconds * 1000, MAX_RETRY_DELAY_MS);
}

/** Waits `ms`, or rejects at once when the caller aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Why the attest request got no evidence: `ERR_SESSION_UNREACHABLE` when nothing (or a 429 / 5xx) answered —
 * refused connection, DNS failure, the deadline — and `ERR_SESSION_NOT_A_POD` when something answered that is
 * not a ccinfer gateway (a 4xx such as 404 for a wrong path, or a body over the bundle bound).
 */
function attestFailure(url: string, cause: unknown, timedOutAfterMs: number | undefined): TransportError {
  if (timedOutAfterMs !== undefined) return new TransportError('ERR_SESSION_UNREACHABLE', `no answer from ${url} in ${timedOutAfterMs} ms (one retry included)`, { cause });
  const status = cause instanceof TransportError ? cause.status : undefined;
  const tooLarge = cause instanceof CcinferError && cause.code === 'ERR_FETCH_TOO_LARGE';
  if ((status !== undefined && status < 500 && status !== 429) || tooLarge) {
    return new TransportError('ERR_SESSION_NOT_A_POD', `${url} is not a ccinfer gateway's attest endpoint${status !== undefined ? ` (HTTP ${status})` : ''}`, { cause, ...(status !== undefined ? { status } : {}) });
  }
  return new TransportError('ERR_SESSION_UNREACHABLE', `could not reach ${url}${status !== undefined ? ` (HTTP ${status})` : ''}`, { cause, ...(status !== undefined ? { status } : {}) });
}

/** `p`, or the signal's reason as soon as it aborts (the work behind `p` may go on for other callers). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The problem type name of an `application/problem+json` answer (RFC 9457), or undefined. */
async function readProblem(res: Response): Promise<string | undefined> {
  if (!(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  try {
    const p = JSON.parse(fromUtf8(new Uint8Array(await res.arrayBuffer()))) as { type?: unknown };
    return typeof p.type === 'string' && p.type.startsWith(PROBLEM_PREFIX) ? p.type.slice(PROBLEM_PREFIX.length) : undefined;
  } catch {
    return undefined;
  }
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Turns a chunked OHTTP response body into a `Response` as soon as its head has arrived, decrypting and
 * decoding each piece as it is read: one stream layer (the `Response` body) over the carrier, not a decrypted
 * stream under a decoded one, since every layer costs a read and a promise per chunk. When the caller's
 * `signal` aborted, a read that fails is the caller's abort (its reason, an `AbortError`), not a truncated
 * stream: the carrier was cut on purpose, by the reader.
 */
async function responseFrom(carrier: ReadableStream<Uint8Array>, ohttp: ChunkedResponseDecoder, signal: AbortSignal | undefined): Promise<Response> {
  const reader = carrier.getReader();
  const decoder = new BhttpResponseDecoder();
  const pending: Uint8Array[] = [];
  let head: { status: number; headers: Fields } | undefined;
  let carrierEnded = false;
  let ended = false;
  const absorb = (events: ReturnType<BhttpResponseDecoder['push']>): void => {
    for (const e of events) {
      if (e.type === 'head') head = { status: e.status, headers: e.headers };
      else if (e.type === 'data') pending.push(e.data);
    }
  };
  /**
   * Reads and opens one piece of the carrier; once it ended (its final chunk opened), ends the Binary HTTP
   * message, so that the data decoded before a malformed end is delivered before the error.
   */
  const step = async (): Promise<void> => {
    if (carrierEnded) {
      ended = true;
      return absorb(decoder.finish());
    }
    let r: Awaited<ReturnType<typeof readResponseChunks>>;
    try {
      r = await readResponseChunks(reader, ohttp);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw err;
    }
    for (const c of r.chunks) absorb(decoder.push(c));
    carrierEnded = r.done;
  };
  while (!head && !ended) await step();
  if (!head) throw new SessionError('ERR_BHTTP_TRUNCATED', 'the response ended before its status');
  const headers = new Headers();
  for (const [n, v] of head.headers) if (!HOP_BY_HOP.has(n) && n !== 'content-encoding') headers.append(n, v);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Close only when the encrypted stream itself ended and its final chunk opened, so a cut after the last
      // content byte is still an error rather than a clean end.
      while (pending.length === 0 && !ended) await step();
      // Everything decoded so far is queued at once (no copy): the reader takes it without another pull.
      for (const data of pending.splice(0)) controller.enqueue(data);
      if (ended) controller.close();
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
  if (NULL_BODY.has(head.status)) {
    await body.cancel();
    return new Response(null, { status: head.status, headers });
  }
  return new Response(body, { status: head.status, headers });
}

/**
 * Parsed SSE `data` JSON, each a {@link ChatCompletionChunk}. `[DONE]` is the model server's end marker, not the
 * message's: the stream is still read to its end, so a response cut before its authenticated final chunk (chunked
 * OHTTP draft §5.2, a man-in-the-middle dropping it) throws `ERR_OHTTP_TRUNCATED` after the events it delivered,
 * never ends quietly.
 */
async function* sseJson(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatCompletionChunk> {
  let done = false;
  for await (const e of parseSse(body)) {
    if (done) continue;
    if (e.data === '[DONE]') {
      done = true;
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(e.data);
    } catch (cause) {
      throw new SessionError('ERR_SESSION_JSON', 'an SSE event is not JSON', { cause });
    }
    yield asCompletion<ChatCompletionChunk>(json, 'a streamed chunk');
  }
}

export type { SseEvent };
