/**
 * Attestation tokens (KBS protocol 0.4.0 §"Attestation" / §"Resource Requests"): the broker answers a passing
 * attestation with an ES256 JWT (EAR claims, the `tee-pubkey`, the document digest), and a resource request may
 * present it as `Authorization: Bearer <token>` instead of the session cookie (Trustee's client does).
 *
 * A presented token is accepted only with this broker's signature (ES256, its own key: the `jwk` in the header
 * is informational and never used to verify), inside its `exp`, and naming an attestation this broker still
 * holds (`jti`): the resource policy is appraised on that attestation's evidence, which the token does not carry.
 * The sealed resource is wrapped to the `tee-pubkey` the token carries, which must be the attested one.
 */
import { SessionError, VerificationError, randomBytes, toHex, type EvidenceBundle, type TeePubKey } from '@ccinfer/core';
import { canonicalJson } from '@ccinfer/core/internal';
import { SignJWT, errors as joseErrors, exportJWK, jwtVerify, type JWK } from 'jose';

export interface AttestedEvidence {
  session: string;
  tee: string;
  bundle: EvidenceBundle;
  nonce: Uint8Array;
  teePubkey: TeePubKey;
}

interface Held extends AttestedEvidence {
  expiresAt: number;
}

export class AttestationTokens {
  private readonly held = new Map<string, Held>();

  private constructor(
    private readonly key: CryptoKeyPair,
    private readonly jwk: JWK,
    private readonly ttlSeconds: number,
    private readonly maxHeld: number,
  ) {}

  static async create(key: CryptoKeyPair, ttlSeconds: number, maxHeld: number): Promise<AttestationTokens> {
    return new AttestationTokens(key, await exportJWK(key.publicKey), ttlSeconds, maxHeld);
  }

  /**
   * Signs a token for an attestation that passed, and holds its evidence until the token expires. At
   * `maxHeld` unexpired tokens it refuses (`ERR_KBS_SESSION_LIMIT`) rather than forget a live one.
   */
  async issue(claims: Record<string, unknown>, evidence: AttestedEvidence, now: Date): Promise<string> {
    const t = now.getTime();
    for (const [id, h] of this.held) if (h.expiresAt <= t) this.held.delete(id);
    if (this.held.size >= this.maxHeld) throw new SessionError('ERR_KBS_SESSION_LIMIT', 'the key broker holds its maximum of live attestation tokens');
    const iat = Math.floor(t / 1000);
    const jti = toHex(randomBytes(16));
    const token = await new SignJWT({ ...claims, 'tee-pubkey': evidence.teePubkey })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: this.jwk })
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.key.privateKey);
    this.held.set(jti, { ...evidence, expiresAt: (iat + this.ttlSeconds) * 1000 });
    return token;
  }

  /**
   * The attestation behind a presented token: `ERR_KBS_TOKEN_EXPIRED` past its `exp`; `ERR_KBS_TOKEN_INVALID`
   * for anything else that is not a token this broker issued and still holds (bad signature, other algorithm,
   * malformed, unknown `jti`, a `tee-pubkey` other than the attested one).
   */
  async verify(token: string, now: Date): Promise<AttestedEvidence> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key.publicKey, { algorithms: ['ES256'], currentDate: now, requiredClaims: ['exp', 'jti'] }));
    } catch (cause) {
      if (cause instanceof joseErrors.JWTExpired) throw new SessionError('ERR_KBS_TOKEN_EXPIRED', 'the attestation token has expired', { cause });
      throw new VerificationError('ERR_KBS_TOKEN_INVALID', 'the attestation token is not one this broker signed', { cause });
    }
    const held = this.held.get(String(payload['jti']));
    if (!held || held.expiresAt <= now.getTime()) throw new VerificationError('ERR_KBS_TOKEN_INVALID', 'the attestation token names no attestation this broker holds');
    // The JWE goes to the key in the token; it must be the key the evidence bound (it is, unless forged).
    const pk = payload['tee-pubkey'];
    if (typeof pk !== 'object' || pk === null || canonicalJson(pk) !== canonicalJson(held.teePubkey)) {
      throw new VerificationError('ERR_KBS_TOKEN_INVALID', 'the token’s tee-pubkey is not the attested one');
    }
    return held;
  }
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined without one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  if (!m) throw new VerificationError('ERR_KBS_TOKEN_INVALID', 'the Authorization header is not a Bearer token');
  return m[1];
}
