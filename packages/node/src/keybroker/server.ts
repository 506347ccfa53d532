/**
 * A Key Broker Service speaking Trustee's KBS protocol 0.4.0 (kbs/docs/kbs_attestation_protocol.md), with
 * ccinfer's own appraisal deciding every release.
 *
 *   POST /kbs/v0/auth      Request { version "0.4.0", tee, extra-params } → Challenge { nonce, extra-params: "" }
 *                          + Set-Cookie kbs-session-id (the session expires after `sessionTtlSeconds`)
 *   POST /kbs/v0/attest    Attestation { init-data?, runtime-data { nonce, tee-pubkey }, tee-evidence
 *                          { primary_evidence, additional_evidence } } → { token } (an EAR JWT, ES256)
 *                          The challenge is answered once: a second attest on the session is refused.
 *   GET  /kbs/v0/resource/<repository>/<type>/<tag>
 *                          with the session cookie, or `Authorization: Bearer <token>` (tokens.ts: this broker's
 *                          signature, unexpired, an attestation it still holds)
 *                          → the resource as a flattened JWE to tee-pubkey, if the session attested and the
 *                          resource's policy passes (re-appraised against that policy); else the KBS error.
 *   admin (Bearer JWT, admin.ts): POST /kbs/v0/resource/<r>/<t>/<tag> (store), POST/GET
 *                          /kbs/v0/resource-policy ({ "policy": base64(JSON) }), GET /kbs/v0/audit.
 *
 * Every attestation, release, refusal and admin call goes to the audit log with the digest of the verification
 * document (bare /auth challenges are unauthenticated and not audited). A decision is logged BEFORE it is
 * answered: if the entry cannot be written, the broker fails closed (500 InternalError, nothing released).
 * At `maxSessions` live sessions a new /auth is refused (503 SessionLimit + Retry-After); live sessions are never
 * evicted, so unauthenticated clients cannot push out others'. Errors are answered in the KBS format
 * ({ type: …/kbs/errors/<Problem>, detail }), never with a stack trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import {
  CcinferError,
  ConfigError,
  MemoryCache,
  ParseError,
  PolicyError,
  SessionError,
  fromBase64,
  fromUtf8,
  randomBytes,
  systemClock,
  toBase64,
  trusteeKbsBinding,
  utf8,
  loadCollateralFile,
  type Cache,
  type CollateralFile,
  type Clock,
  type Fetcher,
} from '@ccinfer/core';
import { appraise, parsePolicy, type Policy, type TrustAnchors } from '@ccinfer/verifier';
import { bundleFromKbsAttestation, documentDigest, parseKbsAttestation, releaseTo } from '@ccinfer/verifier/trustee';
import { createAdminAuthenticator, type AdminAuthOptions } from './admin.js';
import { AuditLog, type AuditSink } from './audit.js';
import { KBS_PROBLEMS, kbsErrorBody, problemFor, type KbsProblem } from './errors.js';
import { parseResourcePolicies, policyFor, type ResourcePolicies } from './policy.js';
import { resourceId, resourceName, type ResourceId, type ResourceStore } from './store.js';
import { AttestationTokens, bearerToken, type AttestedEvidence } from './tokens.js';

export const KBS_PROTOCOL_VERSION = '0.4.0';
export const KBS_SESSION_COOKIE = 'kbs-session-id';
const SUPPORTED_TEES = ['snp', 'tdx'] as const;

export interface KeyBrokerOptions {
  store: ResourceStore;
  /** Which policy each resource requires (policy.ts). Replaceable through the admin interface. */
  policies: ResourcePolicies;
  /** The appraisal policy applied at /attest (before any resource is asked for). Default: strict defaults. */
  attestationPolicy?: Policy | undefined;
  anchors?: TrustAnchors | undefined;
  /** Collateral fetcher (AMD KDS, Intel PCS, NVIDIA). Absent: offline, collateral only from the sources below. */
  fetcher?: Fetcher | undefined;
  /** Collateral cache (a DiskCache keeps it across restarts); verified on every use, never trusted. */
  cache?: Cache | undefined;
  /**
   * An offline collateral file (`ccinfer collateral fetch`, format `ccinfer-collateral/1`) loaded into `cache`
   * (memory when absent) at start: how a broker without vendor access appraises TDX pods (Intel PCS TCB Info,
   * QE Identity, CRLs for their FMSPC) and SNP pods, as the gateway and browser clients do.
   */
  collateralFile?: CollateralFile | Uint8Array | string | undefined;
  /** SNP CRL to use instead of fetching it from AMD KDS. */
  snpCrl?: Uint8Array | undefined;
  /** Session lifetime. Default 300 s (Trustee's default). */
  sessionTtlSeconds?: number | undefined;
  /** Attestation token lifetime. Default 300 s. */
  tokenTtlSeconds?: number | undefined;
  maxSessions?: number | undefined;
  /** Attestation body limit. Default 4 MiB. */
  maxBodyBytes?: number | undefined;
  admin?: AdminAuthOptions | undefined;
  audit?: AuditSink | undefined;
  clock?: Clock | undefined;
  /** ES256 key pair signing attestation tokens; generated when absent. */
  tokenKey?: CryptoKeyPair | undefined;
  log?: ((event: string, detail?: Record<string, unknown>) => void) | undefined;
}

interface Session {
  id: string;
  tee: (typeof SUPPORTED_TEES)[number];
  nonce: string;
  expiresAt: number;
  state: 'challenged' | 'answered' | 'attested';
  attested?: AttestedEvidence;
}

export interface KeyBroker {
  readonly audit: AuditLog;
  /** Verifies attestation tokens this broker issued (public JWK). */
  readonly tokenPublicKey: CryptoKey;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  listen(port?: number, host?: string): Promise<{ url: string; server: Server }>;
  close(): Promise<void>;
}

class TooLarge extends ParseError {}

/** /auth at the session limit: carries when the oldest live session expires (the Retry-After). */
class SessionLimit extends SessionError {
  constructor(readonly retryAfterSeconds: number) {
    super('ERR_KBS_SESSION_LIMIT', 'the key broker is at its session limit; retry later');
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function createKeyBroker(options: KeyBrokerOptions): Promise<KeyBroker> {
  if (!options?.store || !options.policies) throw new ConfigError('ERR_OPTIONS_INVALID', 'store and policies are required', { fields: ['store', 'policies'] });
  const clock = options.clock ?? systemClock;
  const ttl = (options.sessionTtlSeconds ?? 300) * 1000;
  const tokenTtl = options.tokenTtlSeconds ?? 300;
  const maxSessions = options.maxSessions ?? 10_000;
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const attestationPolicy = options.attestationPolicy ?? parsePolicy({ version: 1 });
  let policies = options.policies;
  const audit = new AuditLog(options.audit);
  // Continue the stored chain now: an unreadable audit log stops the broker at startup, not at its first release.
  await audit.resume();
  const adminAuth = await createAdminAuthenticator(options.admin);
  const tokenKey = options.tokenKey ?? ((await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair);
  const tokens = await AttestationTokens.create(tokenKey, tokenTtl, maxSessions);
  const sessions = new Map<string, Session>();
  const cache = options.cache ?? (options.collateralFile !== undefined ? new MemoryCache() : undefined);
  // Loaded before listening: a bad file stops the broker at startup (ConfigError ERR_COLLATERAL_FILE_INVALID).
  if (cache && options.collateralFile !== undefined) await loadCollateralFile(cache, options.collateralFile);
  const common = { anchors: options.anchors, fetcher: options.fetcher, cache, binding: trusteeKbsBinding };
  let server: Server | undefined;

  const now = (): Date => clock.now();
  /** The operator's log hook; a throwing hook must not turn an answered request into a crash. */
  const log = (event: string, detail?: Record<string, unknown>): void => {
    try {
      options.log?.(event, detail);
    } catch {
      // ignored: logging is best effort
    }
  };

  /** Drops expired sessions; at the limit, refuses the new one rather than evicting a live one. */
  function admitSession(t: number): void {
    for (const [id, s] of sessions) if (s.expiresAt <= t) sessions.delete(id);
    if (sessions.size < maxSessions) return;
    let soonest = Infinity;
    for (const s of sessions.values()) soonest = Math.min(soonest, s.expiresAt);
    throw new SessionLimit(Math.max(1, Math.ceil((soonest - t) / 1000)));
  }

  function cookieSession(req: IncomingMessage): Session {
    const m = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${KBS_SESSION_COOKIE}=`));
    const id = m?.slice(KBS_SESSION_COOKIE.length + 1);
    const s = id ? sessions.get(id) : undefined;
    if (!s) throw new SessionError('ERR_KBS_SESSION_UNKNOWN', 'no KBS session cookie, or an unknown one');
    if (s.expiresAt <= now().getTime()) {
      sessions.delete(s.id);
      throw new SessionError('ERR_KBS_SESSION_EXPIRED', 'the KBS session has expired');
    }
    return s;
  }

  function setCookie(res: ServerResponse, s: Session): void {
    res.setHeader('Set-Cookie', `${KBS_SESSION_COOKIE}=${s.id}; Path=/kbs/v0; Max-Age=${Math.max(0, Math.floor((s.expiresAt - now().getTime()) / 1000))}; HttpOnly; SameSite=Strict`);
  }

  function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(data);
  }

  function sendError(res: ServerResponse, problem: KbsProblem, detail: string): void {
    send(res, KBS_PROBLEMS[problem], kbsErrorBody(problem, detail));
  }

  async function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > max) throw new TooLarge('ERR_KBS_BODY_TOO_LARGE', `request bodies are limited to ${max} bytes`);
      chunks.push(c);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
    const body = await readBody(req, max);
    try {
      return JSON.parse(fromUtf8(body, 'ERR_KBS_REQUEST_MALFORMED'));
    } catch (cause) {
      if (cause instanceof CcinferError) throw cause;
      throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'the request body is not JSON', { cause });
    }
  }

  // ——— POST /kbs/v0/auth ———
  async function auth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tee = parseKbsRequest(await readJson(req, 64 * 1024));
    const t = now().getTime();
    admitSession(t);
    const s: Session = { id: nodeRandomBytes(16).toString('base64url'), tee, nonce: toBase64(randomBytes(32)), expiresAt: t + ttl, state: 'challenged' };
    sessions.set(s.id, s);
    setCookie(res, s);
    // Not audited: anyone may ask for a challenge; the log records what is decided (attest, release, admin).
    send(res, 200, { nonce: s.nonce, 'extra-params': '' });
  }

  // ——— POST /kbs/v0/attest ———
  async function attest(req: IncomingMessage, res: ServerResponse, ctx: { session?: string; digest?: string; tee?: string }): Promise<void> {
    const s = cookieSession(req);
    ctx.session = s.id;
    ctx.tee = s.tee;
    // The challenge is answered once, whatever the outcome: a replayed or repeated attestation is refused.
    if (s.state !== 'challenged') throw new SessionError('ERR_KBS_NONCE_USED', 'this session’s challenge was already answered');
    s.state = 'answered';
    const att = parseKbsAttestation(await readJson(req, maxBody));
    if (att.runtimeData.nonce !== s.nonce) throw new SessionError('ERR_KBS_NONCE_MISMATCH', 'the nonce in runtime-data is not this session’s challenge (stale or replayed evidence)');
    const tb = await bundleFromKbsAttestation(att, s.tee, { snpCrl: options.snpCrl });
    const a = await appraise(tb.bundle, { ...common, nonce: tb.nonce, policy: attestationPolicy, now: now() });
    ctx.digest = await documentDigest(a.document);
    if (!a.document.ok) {
      const first = a.document.errors[0];
      throw new AppraisalRefused(first?.code ?? 'ERR_INTERNAL', first?.message ?? 'appraisal failed');
    }
    const attested: AttestedEvidence = { session: s.id, tee: s.tee, bundle: tb.bundle, nonce: tb.nonce, teePubkey: tb.runtimeData['tee-pubkey'] };
    const token = await tokens.issue({ ...a.ear, 'ccinfer.document-digest': ctx.digest }, attested, now());
    // Logged before the session (or the token) may ask for resources: an unwritable log leaves the session
    // unattested and the token never sent (fail closed).
    await audit.record({ event: 'attest', session: s.id, tee: s.tee, ok: true, documentDigest: ctx.digest }, now());
    s.state = 'attested';
    s.attested = attested;
    setCookie(res, s);
    send(res, 200, { token });
  }

  // ——— GET /kbs/v0/resource/<repository>/<type>/<tag> ———
  /**
   * Whose evidence a resource request stands on: the attestation token of `Authorization: Bearer` when present
   * (KBS 0.4.0 §"Resource Requests"; tokens.ts), else the session cookie's attestation.
   */
  async function requester(req: IncomingMessage): Promise<AttestedEvidence> {
    const token = bearerToken(req.headers.authorization);
    if (token !== undefined) return tokens.verify(token, now());
    const s = cookieSession(req);
    if (s.state !== 'attested' || !s.attested) throw new SessionError('ERR_KBS_NOT_ATTESTED', 'Attestation Token not found');
    return s.attested;
  }

  async function resource(req: IncomingMessage, res: ServerResponse, id: ResourceId, ctx: { session?: string; digest?: string; tee?: string }): Promise<void> {
    const who = await requester(req);
    ctx.session = who.session;
    ctx.tee = who.tee;
    const secret = await options.store.get(id);
    if (!secret) throw new SessionError('ERR_KBS_RESOURCE_UNKNOWN', `no resource ${resourceName(id)}`);
    const entry = policyFor(policies, id);
    if (!entry) throw new PolicyError('ERR_KBS_NO_POLICY', `no resource policy covers ${resourceName(id)}: never released`);
    // Sealed to the attested tee-pubkey (the token's, when one was presented: tokens.ts checks they agree).
    const r = await releaseTo(who.bundle, entry.policy, secret, { ...common, nonce: who.nonce, now: now() });
    ctx.digest = r.documentDigest;
    if (!r.sealed) {
      const first = r.document.errors[0];
      throw new AppraisalRefused(first?.code ?? 'ERR_INTERNAL', first?.message ?? 'policy refused');
    }
    // No release without its audit entry: if the entry cannot be written, the sealed secret is never sent.
    await audit.record({ event: 'release', session: who.session, tee: who.tee, resource: resourceName(id), ok: true, documentDigest: r.documentDigest, detail: `policy ${entry.pattern}` }, now());
    send(res, 200, fromUtf8(r.sealed));
  }

  // ——— admin ———
  async function admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const who = await adminAuth(req.headers.authorization, path, now());
    const m = /^\/kbs\/v0\/resource\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (req.method === 'POST' && m) {
      const id = resourceId(m[1]!, m[2]!, m[3]!);
      const data = await readBody(req, maxBody);
      // Logged before the change: a write the log cannot record is not made. (A failing put is logged next.)
      await audit.record({ event: 'admin', resource: resourceName(id), ok: true, detail: `resource stored by ${who.role}${who.subject ? ` (${who.subject})` : ''}` }, now());
      await options.store.put(id, data);
      send(res, 200, '', 'text/plain');
    } else if (path === '/kbs/v0/resource-policy' && req.method === 'POST') {
      const body = (await readJson(req, 1024 * 1024)) as { policy?: unknown };
      if (typeof body?.policy !== 'string') throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'expected { "policy": base64(JSON) }');
      let doc: unknown;
      try {
        doc = JSON.parse(fromUtf8(fromBase64(body.policy, 'ERR_KBS_REQUEST_MALFORMED'), 'ERR_KBS_REQUEST_MALFORMED'));
      } catch (cause) {
        if (cause instanceof CcinferError) throw cause;
        throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'the policy is not base64 JSON', { cause });
      }
      const next = parseResourcePolicies(doc);
      await audit.record({ event: 'admin', ok: true, detail: `resource policy replaced by ${who.role} (${next.entries.length} entries)` }, now());
      policies = next;
      send(res, 200, '', 'text/plain');
    } else if (path === '/kbs/v0/resource-policy' && req.method === 'GET') {
      const doc = { version: 1, resources: Object.fromEntries(policies.entries.map((e) => [e.pattern, { policy: e.source }])) };
      send(res, 200, { policy: toBase64(utf8(JSON.stringify(doc))) });
    } else if (path === '/kbs/v0/audit' && req.method === 'GET') {
      send(res, 200, audit.entries.map((e) => JSON.stringify(e)).join('\n') + '\n', 'application/jsonl');
    } else {
      throw new ParseError('ERR_KBS_PATH_INVALID', `${req.method} ${path} is not an admin endpoint`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const ctx: { session?: string; digest?: string; tee?: string } = {};
    let stage: 'auth' | 'attest' | 'resource' | 'admin' = 'resource';
    let resourceLabel: string | undefined;
    try {
      if (path === '/kbs/v0/auth' && req.method === 'POST') {
        stage = 'auth';
        return await auth(req, res);
      }
      if (path === '/kbs/v0/attest' && req.method === 'POST') {
        stage = 'attest';
        return await attest(req, res, ctx);
      }
      const m = /^\/kbs\/v0\/resource\/(.*)$/.exec(path);
      if (m && req.method === 'GET') {
        const parts = m[1]!.split('/');
        resourceLabel = m[1];
        if (parts.length !== 3) throw new ParseError('ERR_KBS_PATH_INVALID', 'resource paths are /kbs/v0/resource/<repository>/<type>/<tag>');
        const id = resourceId(parts[0]!, parts[1]!, parts[2]!);
        return await resource(req, res, id, ctx);
      }
      if (path.startsWith('/kbs/v0/')) {
        stage = 'admin';
        return await admin(req, res, path);
      }
      throw new ParseError('ERR_KBS_PATH_INVALID', `${path} is not a KBS endpoint`);
    } catch (err) {
      const internal = !(err instanceof CcinferError);
      const e = err instanceof CcinferError ? err : new CcinferError('ERR_INTERNAL', 'internal error', { cause: err });
      if (internal) log('internal-error', { message: (err as Error)?.message });
      const problem = internal ? 'InternalError' : problemFor(stage, e);
      const detail =
        problem === 'PolicyDeny' ? 'Access denied by policy' : problem === 'TokenNotFound' ? 'Attestation Token not found' : problem === 'AdminAuth' ? `Admin auth error: ${e.message}` : `${problem === 'AttestationError' ? 'Attestation error: ' : ''}${e.code}`;
      // Bare /auth refusals are not audited (unauthenticated, nothing decided). An audit failure here must not
      // take the broker down: it is reported to `log` and the refusal still answered.
      if (stage !== 'auth') {
        await audit
          .record({ event: stage === 'admin' ? 'admin' : 'refusal', session: ctx.session, tee: ctx.tee, resource: stage === 'resource' ? resourceLabel : undefined, ok: false, code: e.code, kbsError: problem, documentDigest: ctx.digest, detail: `${stage}: ${e.message}` }, now())
          .catch((cause: unknown) => log('audit-unavailable', { message: (cause as Error)?.message, code: e.code }));
      }
      if (res.headersSent) res.destroy();
      else {
        if (e instanceof SessionLimit) res.setHeader('Retry-After', String(e.retryAfterSeconds));
        sendError(res, problem, detail);
      }
    }
  }

  /** The request listener: `handle` answers its own errors; anything escaping it still gets a 500, never a crash. */
  function listener(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((err: unknown) => {
      log('internal-error', { message: (err as Error)?.message });
      try {
        if (res.headersSent) res.destroy();
        else sendError(res, 'InternalError', 'ERR_INTERNAL');
      } catch {
        res.destroy();
      }
    });
  }

  return {
    audit,
    tokenPublicKey: tokenKey.publicKey,
    handle,
    async listen(port = 8080, host = '127.0.0.1') {
      if (!LOOPBACK.has(host)) throw new ConfigError('ERR_OPTIONS_INVALID', `the key broker listens on loopback only (got ${host}); put a TLS-terminating proxy in front`, { fields: ['host'] });
      server = createServer(listener);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${p}`, server };
    },
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
  };
}

/** A refusal decided by the appraisal: carries the appraisal's own error code (e.g. ERR_SNP_POLICY_DEBUG). */
class AppraisalRefused extends PolicyError {
  constructor(code: string, message: string) {
    super(code as `ERR_${string}`, message);
  }
}

/**
 * A KBS `Request` (kbs_protocol.md §"Request"): `{version, tee, extra-params}`. The version must be exactly
 * 0.4.0 (Trustee's semver "=0.4.0"), the TEE one this broker appraises, and any `tee-metadata` must name the same
 * primary TEE (kbs/src/attestation/mod.rs). Returns the TEE.
 */
export function parseKbsRequest(r: unknown): (typeof SUPPORTED_TEES)[number] {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'Request must be a JSON object');
  const o = r as Record<string, unknown>;
  if (typeof o['version'] !== 'string' || typeof o['tee'] !== 'string' || !('extra-params' in o)) throw new ParseError('ERR_KBS_REQUEST_MALFORMED', 'Request needs version, tee and extra-params');
  // Trustee requires the client's protocol version to equal its own (semver "=0.4.0").
  if (o['version'] !== KBS_PROTOCOL_VERSION) throw new SessionError('ERR_KBS_VERSION', `KBS Client Protocol Version Mismatch: expect =${KBS_PROTOCOL_VERSION} while the request is ${o['version']}`);
  const tee = o['tee'];
  if (!(SUPPORTED_TEES as readonly string[]).includes(tee as string)) throw new SessionError('ERR_KBS_TEE_UNSUPPORTED', `TEE ${tee} is not supported by this broker (snp, tdx)`);
  const extra = o['extra-params'];
  const meta = typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>)['tee-metadata'] : undefined;
  if (meta !== undefined) {
    // kbs/src/attestation/mod.rs: when tee-metadata is present, its primary TEE must be the request's.
    const primary = (meta as { primary_tee?: { tee?: unknown } } | null)?.primary_tee?.tee;
    if (primary !== tee) throw new ParseError('ERR_KBS_REQUEST_MALFORMED', `tee-metadata primary TEE ${String(primary)} does not match request TEE ${tee}`);
  }
  return tee as (typeof SUPPORTED_TEES)[number];
}
