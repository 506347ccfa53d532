/**
 * The pod gateway (docs/architecture.md "Data flow", docs/wire-protocol.md "Endpoints"): a sidecar inside the
 * confidential VM, assembled from named parts:
 *  - `KeyRing` (key-ring.ts): the HPKE keys, current and previous, private halves never extractable;
 *  - the attest handler (attest.ts): `POST /.well-known/ccinfer/attest` answers an evidence bundle bound to the
 *    client's nonce and the current key, with missing vendor collateral attached (collateral.ts);
 *  - the OHTTP handler (ohttp.ts): `POST /.well-known/ccinfer/ohttp`, chunked and plain Oblivious HTTP, relayed to
 *    the upstream OpenAI-compatible server (upstream.ts);
 *  - CORS (cors.ts), `GET /.well-known/ohttp-keys` (key-ring.ts) and `GET /healthz` (health.ts).
 * This file holds the options, their defaults, and the routing between the parts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { ConfigError, MEDIA_TYPE_CHUNKED_REQUEST, type GatewayKey, type SessionCrypto } from '@ccinfer/core';
import { bodyDeadline, closeServer, listenOn } from '../http.js';
import { nodeSessionCrypto } from '../session-crypto.js';
import { createAttestHandler } from './attest.js';
import { createCollateralAttacher, type CollateralAttacher, type CollateralAttacherOptions } from './collateral.js';
import { createCorsHandler } from './cors.js';
import type { EvidenceProvider } from './evidence/provider.js';
import { serveHealth } from './health.js';
import { KeyRing } from './key-ring.js';
import { ReplayGuard } from './replay.js';
import { createOhttpHandler } from './ohttp.js';
import { createPeerForwarder, type PeerSource } from './peers.js';
import { sendProblem } from './problem.js';
import { createForward } from './upstream.js';

export interface GatewayOptions {
  /** Base URL of the OpenAI-compatible server, e.g. `http://127.0.0.1:8000`. */
  upstream: string;
  evidence: EvidenceProvider;
  /**
   * Largest encapsulated request read whole before it is decrypted: a non-chunked (RFC 9458) request, an attest
   * request's bound is its own. Default 8 MiB.
   */
  maxRequestBytes?: number;
  /**
   * Largest chunked (streamed) encapsulated request: its content is decrypted and forwarded to the upstream as
   * it arrives, so this bounds what one request may send, not what the gateway holds. Beyond it the upstream
   * request is aborted and the client gets 413 `too-large`. Default 2 GiB.
   */
  maxBodyBytes?: number;
  /**
   * Time allowed to receive a request's head, and a whole request read before it is handled (attest,
   * non-chunked OHTTP); a streamed (chunked) request may take longer but not pause longer than this between
   * its pieces. Default 60 s.
   */
  requestTimeoutMs?: number;
  /** Time allowed for the upstream's response head, and between upstream body chunks. Default 120 s. */
  upstreamTimeoutMs?: number;
  /** Time allowed to collect evidence. Default 30 s. */
  evidenceTimeoutMs?: number;
  /** HPKE / AES-GCM primitives. Default node:crypto (`nodeSessionCrypto`). */
  crypto?: SessionCrypto;
  /**
   * Undici dispatcher for the upstream. Default: the gateway's own keep-alive pool to the upstream origin (as
   * many connections as requests may be in flight, idle ones kept 60 s), closed with the gateway, so requests
   * after the first skip the TCP handshake.
   */
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
  /**
   * OHTTP requests handled at once, streamed responses included (a stream holds its slot to its end; each
   * request buffers up to maxRequestBytes); beyond it 503 `gateway-busy` + Retry-After. Default 1024.
   */
  maxConcurrentRequests?: number;
  /** Largest upstream response relayed as a non-chunked (RFC 9458) message. Default 16 MiB. */
  maxResponseBytes?: number;
  /** A client that reads nothing of a streamed response for this long is disconnected. Default 60 s. */
  writeIdleTimeoutMs?: number;
  /**
   * Evidence collections running at once (each asks the CPU and every GPU for a signed report). Beyond it an
   * attest gets 503 `gateway-busy` with Retry-After, so a flood of attests cannot queue up GPU work. Default 8.
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
  /**
   * Rotate the key this often (ms), keeping the previous key for `rotationGraceMs` so requests already
   * encrypted to it still open. Default: never (the key lives as long as the process).
   */
  rotateEveryMs?: number;
  /** How long a rotated-out key still opens requests (ms). Default 60 s; 0 forgets it at once. */
  rotationGraceMs?: number;
  /**
   * The other replicas of this pod behind the same load balancer (docs/architecture.md "Replicas"): fixed
   * base URLs, or a DNS name (a Kubernetes headless Service) whose A records are the replicas, and their port.
   * A request for a key another replica holds is forwarded to it still encrypted (one hop), so clients reach
   * the replica they attested without session affinity. Default none: such a request gets
   * `key-config-mismatch` and the client re-attests.
   */
  peers?: PeerSource;
}

export interface Gateway {
  readonly server: Server;
  /** Current key (the one attest binds). */
  readonly key: GatewayKey;
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  /**
   * Replaces the key (a new random key id, never the previous key's). With `keepPrevious`, requests to the old
   * key still open — for `graceMs` when given, else until the next rotation; without it they get
   * `key-config-mismatch` and clients re-attest.
   */
  rotateKey(options?: { keepPrevious?: boolean; graceMs?: number }): Promise<GatewayKey>;
  /** Counters for tests and metrics. */
  readonly stats: { attest: number; ohttp: number; ohttpBytes: number; rejected: number; replayed: number };
}


const ATTEST = '/.well-known/ccinfer/attest';
const OHTTP = '/.well-known/ccinfer/ohttp';
const KEYS = '/.well-known/ohttp-keys';

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  checkOptions(options);
  const log = options.log ?? (() => undefined);
  const attach = options.attachCollateral ?? (options.evidence.name === 'configfs' || options.evidence.name === 'coco');
  const attacher: CollateralAttacher | undefined =
    attach === false ? undefined : attach === true ? createCollateralAttacher({ log }) : 'attach' in attach ? attach : createCollateralAttacher({ log, ...attach });
  const keys = await KeyRing.create();
  const stats = { attest: 0, ohttp: 0, ohttpBytes: 0, rejected: 0, replayed: 0 };
  const replay = new ReplayGuard(options.maxRequestsPerKey ?? 1 << 18);
  let rotating: Promise<GatewayKey> | undefined;

  // Rotation: each rotation's grace timer ends only its own previous key (a later rotation replaced it anyway).
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  async function rotate(keepPrevious: boolean, graceMs?: number): Promise<GatewayKey> {
    clearTimeout(graceTimer);
    const retired = [keys.previous, keepPrevious ? undefined : keys.current];
    const next = await keys.rotate(keepPrevious);
    // Retired keys open nothing any more, so their replay records go; a reused key id starts empty.
    for (const k of retired) if (k) replay.forget(k.config.keyId);
    replay.forget(next.config.keyId);
    if (keepPrevious && graceMs !== undefined) graceTimer = setTimeout(() => endGrace(), graceMs).unref();
    log('key-rotated', { keyId: next.config.keyId });
    return next;
  }
  function endGrace(): void {
    const dropped = keys.previous;
    keys.dropPrevious();
    if (dropped) replay.forget(dropped.config.keyId);
  }

  /**
   * Admits an opened request once (replay.ts). A repeat is refused before it reaches the upstream; a key that
   * has admitted its share answers `key-config-mismatch` (the client re-attests to the next key), and the
   * current key is rotated as it fills, keeping it for requests already in flight.
   */
  function admit(e: { keyId: number; enc: Uint8Array }): 'fresh' | 'replayed' | 'full' {
    const a = replay.admit(e.keyId, e.enc);
    if (a === 'fresh' && e.keyId === keys.current.config.keyId && replay.count(e.keyId) >= replay.maxPerKey) {
      rotating ??= rotate(true).finally(() => (rotating = undefined));
      rotating.catch((err: unknown) => log('key-rotation-failed', { error: (err as Error).name }));
    }
    if (a === 'replayed') {
      stats.replayed++;
      log('request-replayed', { keyId: e.keyId });
    }
    return a;
  }

  const attest = createAttestHandler({
    keys,
    evidence: options.evidence,
    attacher,
    evidenceTimeoutMs: options.evidenceTimeoutMs ?? 30_000,
    maxConcurrent: options.maxConcurrentAttests ?? 8,
    log,
    counted: () => void stats.attest++,
  });
  const maxConcurrentRequests = options.maxConcurrentRequests ?? 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const pool = options.dispatcher ? undefined : new Pool(new URL(options.upstream).origin, { connections: maxConcurrentRequests, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
  const ohttp = createOhttpHandler({
    lookupFor: (digest) => keys.lookupFor(digest),
    admit,
    crypto: options.crypto ?? nodeSessionCrypto,
    forward: createForward({
      upstream: new URL(options.upstream),
      allowedPathPrefixes: options.allowedPathPrefixes ?? ['/v1/'],
      timeoutMs: options.upstreamTimeoutMs ?? 120_000,
      dispatcher: options.dispatcher ?? pool,
      log,
    }),
    forwardToPeer: options.peers
      ? createPeerForwarder({ peers: options.peers, maxRequestBytes: options.maxRequestBytes ?? 8 * 1024 * 1024, maxBodyBytes: options.maxBodyBytes ?? 2 * 1024 ** 3, timeoutMs: options.upstreamTimeoutMs ?? 120_000, log })
      : undefined,
    maxRequestBytes: options.maxRequestBytes ?? 8 * 1024 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 2 * 1024 ** 3,
    requestIdleTimeoutMs: requestTimeoutMs,
    maxResponseBytes: options.maxResponseBytes ?? 16 * 1024 * 1024,
    maxConcurrent: maxConcurrentRequests,
    writeIdleTimeoutMs: options.writeIdleTimeoutMs ?? 60_000,
    log,
    stats,
  });
  const cors = createCorsHandler(options.corsOrigins ?? [], [ATTEST, OHTTP, KEYS], [KEYS]);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    // A whole-body deadline for every request but a streamed upload, which has an idle limit instead (ohttp.ts).
    if (!isChunkedOhttp(req, path)) bodyDeadline(req, requestTimeoutMs);
    if (cors(req, res, path)) return;
    if (path === ATTEST || path === OHTTP) {
      if (req.method !== 'POST') return sendProblem(res, 405, 'method-not-allowed', 'use POST');
      return path === ATTEST ? attest(req, res) : ohttp(req, res);
    }
    if (path === KEYS && req.method === 'GET') return keys.serveKeyConfigs(res);
    if (path === '/healthz' && req.method === 'GET') return serveHealth(res);
    sendProblem(res, 404, 'not-found', 'no such endpoint');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      log('internal-error', { error: (err as Error).name });
      sendProblem(res, 500, 'internal-error', 'internal error');
    });
  });
  // Node's requestTimeout would cut a long upload: heads have this deadline, bodies the ones set in `route`.
  server.requestTimeout = 0;
  server.headersTimeout = requestTimeoutMs;

  const rotationGraceMs = options.rotationGraceMs ?? 60_000;
  const rotateTimer =
    options.rotateEveryMs === undefined
      ? undefined
      : setInterval(() => {
          rotate(rotationGraceMs > 0, rotationGraceMs).catch((err: unknown) => log('key-rotation-failed', { error: (err as Error).name }));
        }, options.rotateEveryMs).unref();

  return {
    server,
    get key() {
      return keys.current;
    },
    stats,
    listen: (port = 0, host = '127.0.0.1') => listenOn(server, port, host),
    close: () => {
      clearInterval(rotateTimer);
      clearTimeout(graceTimer);
      return closeServer(server).finally(() => pool?.destroy());
    },
    rotateKey: (o = {}) => rotate(o.keepPrevious ?? false, o.graceMs),
  };
}

function isChunkedOhttp(req: IncomingMessage, path: string): boolean {
  return path === OHTTP && (req.headers['content-type'] ?? '').split(';')[0]!.trim() === MEDIA_TYPE_CHUNKED_REQUEST;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Limits, timeouts and rotation periods must be in range (a limit of 0 refuses all; a period of 0 would spin). */
function checkOptions(o: GatewayOptions): void {
  const check = (name: keyof GatewayOptions, min: number, max: number): void => {
    const v = o[name];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError('ERR_GATEWAY_OPTIONS', `${name} must be an integer ${min}..${max}`, { fields: [name] });
    }
  };
  check('maxConcurrentRequests', 0, 1_000_000);
  check('maxConcurrentAttests', 0, 1_000_000);
  check('rotateEveryMs', 1, MAX_TIMER_MS);
  check('rotationGraceMs', 0, MAX_TIMER_MS);
  check('upstreamTimeoutMs', 1, MAX_TIMER_MS);
  check('requestTimeoutMs', 1, MAX_TIMER_MS);
  check('maxRequestBytes', 1, Number.MAX_SAFE_INTEGER);
  check('maxBodyBytes', 1, Number.MAX_SAFE_INTEGER);
}
