/**
 * Replicas behind a load balancer without affinity (docs/architecture.md "Replicas"): every replica keeps its
 * own HPKE key, and a request that reaches a replica not holding the key it was encrypted to is forwarded —
 * still encrypted — to the peer that holds it, and the peer's still-encrypted answer is streamed back. The
 * forwarding replica handles ciphertext only: it cannot open the request (HPKE to the peer's key, RFC 9180) nor
 * the response (sealed to the client's ephemeral context, RFC 9458 §4.4), so no secret is shared between
 * replicas and every request is decrypted only by the replica whose evidence the client appraised.
 *
 * Peers are as untrusted as the network: the key configs they claim are only routing hints (a peer claiming a
 * key it does not hold receives ciphertext it cannot open), every exchange with them is bounded in time and
 * size, and a forwarded request carries {@link FORWARDED_HEADER} so it is never forwarded again (one hop: no
 * loops, whatever the peers claim).
 */
import { resolve4 } from 'node:dns/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { MEDIA_TYPE_CHUNKED_REQUEST, encodeKeyConfig, parseKeyConfigList } from '@ccinfer/core';
import { keyConfigDigest, KEY_CONFIG_HEADER } from '@ccinfer/core/internal';
import { BodyTooLarge, boundedChunks, readBody } from '../http.js';
import { sendProblem } from './problem.js';
import type { GatewayLog } from './slots.js';

/**
 * Marks a request one replica forwarded to another (docs/wire-protocol.md "Forwarding between replicas"): the
 * receiver answers it itself or with `key-config-mismatch`, never forwards it again. A client setting it only
 * opts out of forwarding.
 */
export const FORWARDED_HEADER = 'ccinfer-forwarded';

/**
 * Where the peers are: fixed base URLs (`http://10.0.0.7:8443`), or the A records of a name (a Kubernetes
 * headless Service, which lists every ready pod) and the port the replicas listen on; `resolve` replaces
 * node:dns `resolve4` (tests).
 */
export type PeerSource = { urls: readonly string[] } | { dns: string; port: number; resolve?: (name: string) => Promise<string[]> };

export interface PeerOptions {
  peers: PeerSource;
  /** Largest encapsulated request forwarded whole (the gateway's own request limit). */
  maxRequestBytes: number;
  /**
   * Largest streamed (chunked) request body, in plaintext (the gateway's own `maxBodyBytes`). Forwarded
   * ciphertext is bounded by it plus framing; the holder enforces the exact limit on what it decrypts.
   */
  maxBodyBytes: number;
  /** Time for a forwarded request's answer head and between its body chunks. */
  timeoutMs: number;
  log: GatewayLog;
  /** Tests: the undici dispatcher for peer traffic. */
  dispatcher?: Dispatcher;
}

/** `GET /.well-known/ohttp-keys` is a few hundred bytes; a peer answering more is not a ccinfer gateway. */
const MAX_KEY_CONFIGS_BYTES = 16 * 1024;
/** How long the peers' key configs are used before they are fetched again (a miss fetches them at once). */
const KEY_CONFIG_TTL_MS = 30_000;
/** Time allowed for a peer's key configs: a peer slower than this is left out of the table until the next refresh. */
const KEY_CONFIG_TIMEOUT_MS = 5_000;
/** Peers used at most; a headless Service with more endpoints than this is cut off (and logged). */
const MAX_PEERS = 64;
/** Refreshes on a miss are at least this far apart, so unknown key digests cannot make a replica spin. */
const MIN_REFRESH_GAP_MS = 100;
const KEYS_PATH = '/.well-known/ohttp-keys';
const OHTTP_PATH = '/.well-known/ccinfer/ohttp';
/** Answer fields relayed from the peer (the rest, hop-by-hop ones included, are the peer's business). */
const RELAYED = ['content-type', 'cache-control', 'incremental', 'retry-after', 'content-length'] as const;

/** The key-config digests each peer serves, learnt from the peers' public key-config endpoint. */
export class PeerDirectory {
  private holders = new Map<string, string>();
  /** When the refresh that produced `holders` started, and when the last one started. */
  private completedStartedAt = -Infinity;
  private startedAt = -Infinity;
  private refreshing: { done: Promise<void> } | undefined;

  constructor(private readonly o: PeerOptions) {}

  /**
   * The base URL of the peer holding the key config `digest`, or undefined. A miss (or a stale table) fetches
   * the peers' key configs again — one fetch at a time, started after the request arrived, so a peer that
   * restarted with a new key a moment ago is found — at most every MIN_REFRESH_GAP_MS.
   */
  async holder(digest: string): Promise<string | undefined> {
    const arrived = Date.now();
    if (arrived - this.completedStartedAt > KEY_CONFIG_TTL_MS) await this.refreshAfter(arrived);
    const known = this.holders.get(digest);
    if (known !== undefined) return known;
    await this.refreshAfter(arrived);
    return this.holders.get(digest);
  }

  /** Forgets a peer that could not be reached, until the next refresh lists it again. */
  forget(peer: string): void {
    for (const [d, p] of this.holders) if (p === peer) this.holders.delete(d);
  }

  /** Resolves once a refresh that started at or after `arrived` has completed (starting one if needed). */
  private async refreshAfter(arrived: number): Promise<void> {
    for (;;) {
      if (this.completedStartedAt >= arrived) return;
      const r = this.refreshing;
      if (r) {
        await r.done;
        continue;
      }
      const wait = this.startedAt + MIN_REFRESH_GAP_MS - Date.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      const startedAt = (this.startedAt = Date.now());
      const done = this.refresh(startedAt).finally(() => (this.refreshing = undefined));
      this.refreshing = { done };
    }
  }

  private async refresh(startedAt: number): Promise<void> {
    const peers = await this.list();
    const next = new Map<string, string>();
    await Promise.all(
      peers.map(async (peer) => {
        for (const d of await this.keyConfigsOf(peer)) next.set(d, peer);
      }),
    );
    this.holders = next;
    this.completedStartedAt = startedAt;
  }

  private async list(): Promise<string[]> {
    const s = this.o.peers;
    if ('urls' in s) return s.urls.slice(0, MAX_PEERS);
    try {
      const addresses = await (s.resolve ?? resolve4)(s.dns);
      if (addresses.length > MAX_PEERS) this.o.log('peers-truncated', { listed: addresses.length, used: MAX_PEERS });
      return addresses.slice(0, MAX_PEERS).map((a) => `http://${a}:${s.port}`);
    } catch (err) {
      this.o.log('peers-unresolved', { error: (err as { code?: string }).code ?? (err as Error).name });
      return [];
    }
  }

  /** The digests of the key configs a peer serves; none when it cannot be reached or answers nonsense. */
  private async keyConfigsOf(peer: string): Promise<string[]> {
    try {
      const res = await undiciRequest(peer + KEYS_PATH, {
        method: 'GET',
        headersTimeout: KEY_CONFIG_TIMEOUT_MS,
        bodyTimeout: KEY_CONFIG_TIMEOUT_MS,
        signal: AbortSignal.timeout(KEY_CONFIG_TIMEOUT_MS),
        ...(this.o.dispatcher ? { dispatcher: this.o.dispatcher } : {}),
      });
      if (res.statusCode !== 200) {
        res.body.destroy();
        return [];
      }
      const body = await readBody(res.body, MAX_KEY_CONFIGS_BYTES).finally(() => res.body.destroy());
      return parseKeyConfigList(body).map((c) => keyConfigDigest(encodeKeyConfig(c)));
    } catch (err) {
      this.o.log('peer-key-configs-failed', { peer, error: (err as { code?: string }).code ?? (err as Error).name });
      return [];
    }
  }
}

/**
 * Forwards a request for a key this replica does not hold to the peer that does. Resolves false when no peer
 * holds it (the caller answers `key-config-mismatch`); true when an answer was sent.
 */
export type PeerForwarder = (req: IncomingMessage, res: ServerResponse, digest: string) => Promise<boolean>;

/**
 * The ciphertext a forwarded request may carry: a chunked (streamed) request up to the body limit plus its
 * framing — a length prefix and a 16-byte AEAD tag per chunk, allowed generously as 1/64 of the body plus
 * 64 KiB — and anything else up to the whole-request limit.
 */
function forwardLimit(contentType: string | undefined, o: PeerOptions): number {
  const type = (contentType ?? '').split(';')[0]!.trim();
  return type === MEDIA_TYPE_CHUNKED_REQUEST ? o.maxBodyBytes + Math.ceil(o.maxBodyBytes / 64) + 65_536 : o.maxRequestBytes;
}

export function createPeerForwarder(o: PeerOptions): PeerForwarder {
  const directory = new PeerDirectory(o);
  return async (req, res, digest) => {
    // One hop: a request another replica forwarded is never forwarded again.
    if (req.headers[FORWARDED_HEADER] !== undefined) return false;
    const peer = await directory.holder(digest);
    if (peer === undefined) return false;
    o.log('request-forwarded', { peer });
    const headers: Record<string, string> = { [KEY_CONFIG_HEADER]: digest, [FORWARDED_HEADER]: '1' };
    for (const name of ['content-type', 'accept', 'incremental']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    let sent = false;
    let tooLarge = false;
    const limit = forwardLimit(req.headers['content-type'], o);
    let answer: Dispatcher.ResponseData;
    try {
      answer = await undiciRequest(peer + OHTTP_PATH, {
        method: 'POST',
        headers,
        // The body streams through as it arrives, bounded like a request this replica would open itself.
        body: Readable.from(bounded(tracked(req, () => (sent = true)), limit, () => (tooLarge = true))),
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
        signal: ac.signal,
        ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).name;
      o.log('forward-failed', { peer, error: code });
      if (res.destroyed) return true;
      // Over the limit: the peer got a cut request, which does not open (no final chunk, or a short message).
      if (tooLarge) {
        sendProblem(res, 413, 'too-large', `requests are limited to ${limit} bytes`);
        return true;
      }
      // A peer refusing the connection received nothing: its key is gone with it (keys are never persisted),
      // so the client is told to re-attest. Once bytes went out, the peer may have opened the request.
      if (!sent || isConnectRefusal(code)) {
        directory.forget(peer);
        req.resume();
        sendProblem(res, 400, 'key-config-mismatch', 'the replica holding this key config is gone; re-attest');
      } else {
        sendProblem(res, 502, 'peer-unavailable', 'the replica holding this key config failed while handling the request');
      }
      return true;
    }
    const out: Record<string, string> = {};
    for (const name of RELAYED) {
      const v = answer.headers[name];
      if (typeof v === 'string') out[name] = v;
    }
    res.writeHead(answer.statusCode, out);
    res.flushHeaders();
    try {
      await pipeline(answer.body, res);
    } catch (err) {
      // Cut mid-answer (the peer died, or the client left): the client sees a truncated response, never a
      // forged end — the final chunk is authenticated (chunked OHTTP draft §5.2).
      o.log('forward-stream-failed', { peer, error: (err as { code?: string }).code ?? (err as Error).name });
      answer.body.destroy();
      res.destroy();
    }
    return true;
  };
}

function isConnectRefusal(code: string): boolean {
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND';
}

/** `boundedChunks`, noting (`onTooLarge`) that the limit was passed before the error reaches undici. */
async function* bounded(body: AsyncIterable<Uint8Array>, limit: number, onTooLarge: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* boundedChunks(body, limit);
  } catch (err) {
    if (err instanceof BodyTooLarge) onTooLarge();
    throw err;
  }
}

/** `body`, calling `onFirst` when its first piece is handed on (the request has then started to leave). */
async function* tracked(body: AsyncIterable<Uint8Array>, onFirst: () => void): AsyncGenerator<Uint8Array> {
  for await (const piece of body) {
    onFirst();
    yield piece;
  }
}
