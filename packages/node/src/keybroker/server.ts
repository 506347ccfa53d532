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
 *
 * This file holds the options, the routing and the error answer; each route is one handler in routes/, the
 * sessions live in the session table (sessions.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CcinferError, ConfigError, MemoryCache, ParseError, loadCollateralFile, systemClock, trusteeKbsBinding, type Cache, type Clock, type CollateralFile, type Fetcher } from '@ccinfer/core';
import { parsePolicy, type Policy, type TrustAnchors } from '@ccinfer/verifier';
import { listenOn } from '../http.js';
import { createAdminAuthenticator, type AdminAuthOptions } from './admin.js';
import { AuditLog, type AuditSink } from './audit.js';
import type { BrokerContext, RequestRecord } from './context.js';
import { problemFor } from './errors.js';
import type { ResourcePolicies } from './policy.js';
import { sendKbsError } from './reply.js';
import { admin } from './routes/admin.js';
import { attest } from './routes/attest.js';
import { auth } from './routes/auth.js';
import { resource } from './routes/resource.js';
import { SessionLimit, SessionTable } from './sessions.js';
import { resourceId, type ResourceStore } from './store.js';
import { AttestationTokens } from './tokens.js';

export { KBS_PROTOCOL_VERSION } from './routes/auth.js';
export { KBS_SESSION_COOKIE } from './sessions.js';

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

export interface KeyBroker {
  readonly audit: AuditLog;
  /** Verifies attestation tokens this broker issued (public JWK). */
  readonly tokenPublicKey: CryptoKey;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  listen(port?: number, host?: string): Promise<{ url: string; server: Server }>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function createKeyBroker(options: KeyBrokerOptions): Promise<KeyBroker> {
  if (!options?.store || !options.policies) throw new ConfigError('ERR_OPTIONS_INVALID', 'store and policies are required', { fields: ['store', 'policies'] });
  const clock = options.clock ?? systemClock;
  const now = (): Date => clock.now();
  const audit = new AuditLog(options.audit);
  // Continue the stored chain now: an unreadable audit log stops the broker at startup, not at its first release.
  await audit.resume();
  const tokenKey = options.tokenKey ?? ((await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair);
  const maxSessions = options.maxSessions ?? 10_000;
  const cache = options.cache ?? (options.collateralFile !== undefined ? new MemoryCache() : undefined);
  // Loaded before listening: a bad file stops the broker at startup (ConfigError ERR_COLLATERAL_FILE_INVALID).
  if (cache && options.collateralFile !== undefined) await loadCollateralFile(cache, options.collateralFile);
  const ctx: BrokerContext = {
    store: options.store,
    sessions: new SessionTable((options.sessionTtlSeconds ?? 300) * 1000, maxSessions, now),
    audit,
    adminAuth: await createAdminAuthenticator(options.admin),
    now,
    appraisal: { anchors: options.anchors, fetcher: options.fetcher, cache, binding: trusteeKbsBinding },
    attestationPolicy: options.attestationPolicy ?? parsePolicy({ version: 1 }),
    snpCrl: options.snpCrl,
    policies: options.policies,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    tokens: await AttestationTokens.create(tokenKey, options.tokenTtlSeconds ?? 300, maxSessions),
  };
  let server: Server | undefined;

  /** The operator's log hook; a throwing hook must not turn an answered request into a crash. */
  const log = (event: string, detail?: Record<string, unknown>): void => {
    try {
      options.log?.(event, detail);
    } catch {
      // ignored: logging is best effort
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const record: RequestRecord = {};
    let stage: 'auth' | 'attest' | 'resource' | 'admin' = 'resource';
    let resourceLabel: string | undefined;
    try {
      if (path === '/kbs/v0/auth' && req.method === 'POST') {
        stage = 'auth';
        return await auth(ctx, req, res);
      }
      if (path === '/kbs/v0/attest' && req.method === 'POST') {
        stage = 'attest';
        return await attest(ctx, req, res, record);
      }
      const m = /^\/kbs\/v0\/resource\/(.*)$/.exec(path);
      if (m && req.method === 'GET') {
        const parts = m[1]!.split('/');
        resourceLabel = m[1];
        if (parts.length !== 3) throw new ParseError('ERR_KBS_PATH_INVALID', 'resource paths are /kbs/v0/resource/<repository>/<type>/<tag>');
        return await resource(ctx, req, res, resourceId(parts[0]!, parts[1]!, parts[2]!), record);
      }
      if (path.startsWith('/kbs/v0/')) {
        stage = 'admin';
        return await admin(ctx, req, res, path);
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
          .record({ event: stage === 'admin' ? 'admin' : 'refusal', session: record.session, tee: record.tee, resource: stage === 'resource' ? resourceLabel : undefined, ok: false, code: e.code, kbsError: problem, documentDigest: record.digest, detail: `${stage}: ${e.message}` }, now())
          .catch((cause: unknown) => log('audit-unavailable', { message: (cause as Error)?.message, code: e.code }));
      }
      if (res.headersSent) res.destroy();
      else {
        if (e instanceof SessionLimit) res.setHeader('Retry-After', String(e.retryAfterSeconds));
        sendKbsError(res, problem, detail);
      }
    }
  }

  /** The request listener: `handle` answers its own errors; anything escaping it still gets a 500, never a crash. */
  function listener(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((err: unknown) => {
      log('internal-error', { message: (err as Error)?.message });
      try {
        if (res.headersSent) res.destroy();
        else sendKbsError(res, 'InternalError', 'ERR_INTERNAL');
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
      const s = createServer(listener);
      const { url } = await listenOn(s, port, host);
      server = s;
      return { url, server: s };
    },
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
  };
}
