/**
 * The key broker's session table (KBS protocol 0.4.0, kbs_attestation_protocol.md "Request" / "Challenge"):
 * `/auth` opens a session identified by the `kbs-session-id` cookie and holds its challenge nonce; `/attest`
 * answers it once; resource requests need an attested session. A session ends at its expiry.
 *
 * At `maxSessions` live sessions a new one is refused (503 + Retry-After), never made room for: sessions are
 * opened by unauthenticated clients, so evicting a live one would let anyone push out others'.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { SessionError } from '@ccinfer/core';
import type { AttestedEvidence } from './tokens.js';

export const KBS_SESSION_COOKIE = 'kbs-session-id';
export const SUPPORTED_TEES = ['snp', 'tdx'] as const;
export type KbsTee = (typeof SUPPORTED_TEES)[number];

export interface Session {
  id: string;
  tee: KbsTee;
  nonce: string;
  expiresAt: number;
  state: 'challenged' | 'answered' | 'attested';
  attested?: AttestedEvidence;
}

/** /auth at the session limit: carries when the oldest live session expires (the Retry-After). */
export class SessionLimit extends SessionError {
  constructor(readonly retryAfterSeconds: number) {
    super('ERR_KBS_SESSION_LIMIT', 'the key broker is at its session limit; retry later');
  }
}

export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
    private readonly now: () => Date,
  ) {}

  /** Opens a session for `tee` with challenge `nonce`; throws `SessionLimit` when the table is full. */
  open(tee: KbsTee, nonce: string): Session {
    const t = this.now().getTime();
    this.admit(t);
    const s: Session = { id: nodeRandomBytes(16).toString('base64url'), tee, nonce, expiresAt: t + this.ttlMs, state: 'challenged' };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session named by the request's `kbs-session-id` cookie. */
  fromCookie(req: IncomingMessage): Session {
    const m = (req.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${KBS_SESSION_COOKIE}=`));
    const id = m?.slice(KBS_SESSION_COOKIE.length + 1);
    const s = id ? this.sessions.get(id) : undefined;
    if (!s) throw new SessionError('ERR_KBS_SESSION_UNKNOWN', 'no KBS session cookie, or an unknown one');
    if (s.expiresAt <= this.now().getTime()) {
      this.sessions.delete(s.id);
      throw new SessionError('ERR_KBS_SESSION_EXPIRED', 'the KBS session has expired');
    }
    return s;
  }

  /** Sets the session cookie, scoped to the KBS API and living as long as the session. */
  setCookie(res: ServerResponse, s: Session): void {
    const maxAge = Math.max(0, Math.floor((s.expiresAt - this.now().getTime()) / 1000));
    res.setHeader('Set-Cookie', `${KBS_SESSION_COOKIE}=${s.id}; Path=/kbs/v0; Max-Age=${maxAge}; HttpOnly; SameSite=Strict`);
  }

  /** Drops expired sessions; at the limit, refuses the new one rather than evicting a live one. */
  private admit(t: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(id);
    if (this.sessions.size < this.maxSessions) return;
    let soonest = Infinity;
    for (const s of this.sessions.values()) soonest = Math.min(soonest, s.expiresAt);
    throw new SessionLimit(Math.max(1, Math.ceil((soonest - t) / 1000)));
  }
}
