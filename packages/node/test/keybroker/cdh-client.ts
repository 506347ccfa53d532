/**
 * A Confidential Data Hub / attestation agent stand-in, written from Trustee's KBS protocol document
 * (kbs/docs/kbs_attestation_protocol.md, protocol 0.4.0) and the guest-components RCAR client's observable
 * behaviour, not from either's code:
 *   1. POST /kbs/v0/auth  { version: "0.4.0", tee, extra-params: { supported-hash-algorithms } }
 *      → Challenge { nonce, extra-params } + Set-Cookie kbs-session-id
 *   2. make an ephemeral EC P-256 key (alg ECDH-ES+A256KW), runtime-data = { nonce, tee-pubkey }, gather
 *      evidence bound to it (here: simulated SNP + NVIDIA hardware), POST /kbs/v0/attest with the cookie
 *      → { token }
 *   3. GET /kbs/v0/resource/<repository>/<type>/<tag> with the cookie → flattened JWE → decrypt with the
 *      private key, computing the AAD from the re-serialized protected header as kbs_types does.
 */
import { fromBase64Url, fromUtf8, toBase64Url, utf8, type TeePubKey } from '@ccinfer/core';
import { mintKbsAttestation, type KbsAttestationSpec } from '@ccinfer/verifier/testing';
import { exportJWK, flattenedDecrypt, generateKeyPair, type FlattenedJWE } from 'jose';

export interface HttpResult {
  status: number;
  body: any;
  text: string;
  setCookie: string | null;
}

export class SimulatedCdh {
  cookie: string | undefined;
  challenge: { nonce: string; 'extra-params': unknown } | undefined;
  attestation: Record<string, unknown> | undefined;
  private keys: { publicKey: CryptoKey; privateKey: CryptoKey } | undefined;
  teePubkey: TeePubKey | undefined;

  constructor(
    readonly url: string,
    readonly evidence: Omit<KbsAttestationSpec, 'nonce' | 'teePubkey'> = { gpus: 1 },
    readonly tee = 'snp',
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    const res = await fetch(this.url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, setCookie: res.headers.get('set-cookie') };
  }

  async auth(request: unknown = { version: '0.4.0', tee: this.tee, 'extra-params': { 'supported-hash-algorithms': ['sha256', 'sha384', 'sha512'] } }): Promise<HttpResult> {
    const r = await this.request('POST', '/kbs/v0/auth', request);
    const m = /(?:^|;\s*)(kbs-session-id=[^;]+)/.exec(r.setCookie ?? '');
    if (r.status === 200) {
      this.cookie = m?.[1];
      this.challenge = r.body;
    }
    return r;
  }

  /** Builds the Attestation for the current challenge (or `nonce`) without sending it. */
  async buildAttestation(nonce = this.challenge!.nonce, spec: Partial<KbsAttestationSpec> = {}): Promise<Record<string, unknown>> {
    this.keys ??= (await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' })) as { publicKey: CryptoKey; privateKey: CryptoKey };
    const jwk = await exportJWK(this.keys.publicKey);
    this.teePubkey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: jwk.x!, y: jwk.y! };
    const m = await mintKbsAttestation({ ...this.evidence, ...spec, nonce, teePubkey: this.teePubkey });
    this.attestation = m.attestation;
    return m.attestation;
  }

  async attest(attestation?: Record<string, unknown>): Promise<HttpResult> {
    return this.request('POST', '/kbs/v0/attest', attestation ?? (await this.buildAttestation()));
  }

  /** `bearer`: present the attestation token as `Authorization: Bearer` instead of the cookie. */
  async getResource(path: string, bearer?: string): Promise<HttpResult & { plaintext?: Uint8Array }> {
    const cookie = this.cookie;
    if (bearer !== undefined) this.cookie = undefined;
    const r = await this.request('GET', `/kbs/v0/resource/${path}`, undefined, bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}).finally(() => (this.cookie = cookie));
    if (r.status !== 200) return r;
    const jwe = r.body as FlattenedJWE & Record<string, string>;
    // kbs_types::ProtectedHeader::generate_aad re-serializes { alg, enc, ...other members } and base64url-encodes
    // it; a KBS whose protected header is not already in that form would fail AEAD in a real guest.
    const h = JSON.parse(fromUtf8(fromBase64Url(jwe.protected!))) as Record<string, unknown>;
    const { alg, enc, ...rest } = h;
    const sorted = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v);
    const reserialized = toBase64Url(utf8(JSON.stringify({ alg, enc, ...(sorted(rest) as object) })));
    if (reserialized !== jwe.protected) throw new Error('protected header is not in the form guest-components re-serializes');
    const { plaintext } = await flattenedDecrypt(jwe, this.keys!.privateKey);
    return { ...r, plaintext };
  }
}
