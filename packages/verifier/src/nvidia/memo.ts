/**
 * What an NVIDIA appraisal may remember across appraisals: results that depend only on exact bytes. A pod
 * attested again carries the same RIMs and the same pre-fetched OCSP responses; re-parsing each RIM (XML, then
 * C14N 1.1 of the whole document) and re-verifying every signature on every attestation costs more than the
 * devices' fresh report signatures.
 *
 * Remembered, only after they succeeded:
 * - a RIM document (by the SHA-256 of its bytes) whose XML-DSig Reference digest and SignedInfo signature by
 *   its KeyInfo leaf verified: the parsed RIM is returned for the same bytes, and its XML signature is not
 *   checked again. Its signer chain (validity at `now`, pin to the anchors of the call), its version and signed
 *   identity against the device, its OCSP and the golden comparison are checked on every appraisal;
 * - an OCSP response (by its exact bytes) whose signature verified: the parsed response is returned for the
 *   same bytes; its signature (and a delegated responder certificate's) is remembered by exact signed bytes,
 *   signature and key in the ChainCache's `SignatureMemo`. Responder choice and validity at `now`, the CertID
 *   match, thisUpdate / nextUpdate / producedAt against `now` and the status are checked every time;
 * - CertID issuer hashes, by the exact issuer name and key bytes they hash.
 *
 * Never remembered: anything that depends on a nonce (SPDM report signatures, an OCSP nonce echo; responses
 * fetched with our nonce are checked without this memo), failures, and RIM objects the caller parsed itself.
 *
 * The memo hangs off the caller's `ChainCache` (one per ChainCache, in a WeakMap), so it lives exactly as long
 * as the chain cache the caller keeps between appraisals; every map is bounded (oldest use evicted first).
 */
import { sha256, toHex, utf8, type HashName } from '@ccinfer/core';
import { BoundedMap } from '@ccinfer/core/internal';
import type { Certificate, ChainCache, ChainResult } from '../x509/index.js';
import { certIdFor, parseOcspResponse, type CertId, type OcspResponse, type OcspResult } from './ocsp.js';
import { parseRim, verifyRimChain, verifyRimXmlSignature, type Rim, type VerifyRimOptions } from './rim.js';

/** A RIM as the caller gives it: the document (bytes or text) or an already parsed one. */
export type RimInput = Uint8Array | string | Rim;

/**
 * The devices of one bundle share their RIMs (one driver and one VBIOS RIM for eight identical GPUs), the
 * RIM signer chain and the upper device CAs: each RIM is parsed and its signature verified once, and each
 * pre-fetched OCSP response is parsed once and checked once per certificate, for the whole appraisal. Results
 * are shared, failures included (the same inputs give the same verdict). One memo per appraisal: `now`,
 * anchors and OCSP mode must not change while it is used.
 */
export class NvidiaMemo {
  readonly rims = new Map<RimInput, Promise<Rim>>();
  readonly rimSignatures = new Map<Rim, Promise<ChainResult>>();
  readonly ocspParsed = new Map<Uint8Array, OcspResponse>();
  readonly ocspChecks = new Map<string, Promise<OcspResult>>();
}

/** `f()` once per key of `map` (the promise is shared, rejections included); every time without a map. */
export function memoized<K, V>(map: Map<K, Promise<V>> | undefined, key: K, f: () => Promise<V>): Promise<V> {
  if (!map) return f();
  let p = map.get(key);
  if (!p) map.set(key, (p = f()));
  return p;
}

export interface NvidiaCollateralMemoLimits {
  /** Verified RIM documents kept (each holds its parsed XML tree). Default 32. */
  rims?: number;
  /** Verified OCSP responses kept. Default 256. */
  ocsp?: number;
  /** CertID issuer hashes kept. Default 256. */
  certIds?: number;
}

export class NvidiaCollateralMemo {
  /** SHA-256 (hex) of a RIM document → the RIM parsed from it, whose XML signature verified. */
  private readonly rims: BoundedMap<string, Rim>;
  /** RIMs this memo parsed (not yet or no longer remembered) → SHA-256 of their document. */
  private readonly parsedRims = new WeakMap<Rim, string>();
  /** Hex of an OCSP response's bytes → the response parsed from them, whose signature verified. */
  private readonly ocsp: BoundedMap<string, OcspResponse>;
  private readonly parsedOcsp = new WeakMap<OcspResponse, string>();
  private readonly certIds: BoundedMap<string, Promise<{ issuerNameHash: Uint8Array; issuerKeyHash: Uint8Array }>>;

  constructor(limits: NvidiaCollateralMemoLimits = {}) {
    this.rims = new BoundedMap(limits.rims ?? 32);
    this.ocsp = new BoundedMap(limits.ocsp ?? 256);
    this.certIds = new BoundedMap(limits.certIds ?? 256);
  }

  /** Entries held: RIMs, OCSP responses, CertID issuer hashes. */
  get sizes(): { rims: number; ocsp: number; certIds: number } {
    return { rims: this.rims.size, ocsp: this.ocsp.size, certIds: this.certIds.size };
  }

  /** `parseRim`, returning the remembered RIM when these exact bytes already verified. */
  async parseRim(input: Uint8Array | string): Promise<Rim> {
    const key = toHex(await sha256(typeof input === 'string' ? utf8(input) : input));
    const hit = this.rims.get(key);
    if (hit) return hit;
    const rim = await parseRim(input);
    this.parsedRims.set(rim, key);
    return rim;
  }

  /**
   * `verifyRim`: the signer chain always (at `opts.now`, to `opts.anchors`), the XML signature unless this
   * very RIM object is the one remembered for its document. Remembers it once both passed.
   */
  async verifyRim(rim: Rim, opts: VerifyRimOptions): Promise<ChainResult> {
    const chain = await verifyRimChain(rim, opts);
    const key = this.parsedRims.get(rim);
    if (key === undefined || this.rims.get(key) !== rim) {
      await verifyRimXmlSignature(rim);
      if (key !== undefined) this.rims.set(key, rim);
    }
    return chain;
  }

  /** `parseOcspResponse`, returning the remembered response when these exact bytes already verified. */
  parseOcsp(bytes: Uint8Array): OcspResponse {
    const key = toHex(bytes);
    const hit = this.ocsp.get(key);
    if (hit) return hit;
    const parsed = parseOcspResponse(bytes);
    this.parsedOcsp.set(parsed, key);
    return parsed;
  }

  /** Called after `checkOcspResponse` accepted `resp`: remembers it when this memo parsed it. */
  ocspVerified(resp: OcspResponse): void {
    const key = this.parsedOcsp.get(resp);
    if (key !== undefined) this.ocsp.set(key, resp);
  }

  /** `certIdFor`, with the issuer name and key hashes remembered by the exact bytes hashed. */
  readonly certId = async (cert: Certificate, issuer: Certificate, hash: HashName = 'SHA-384'): Promise<CertId> => {
    const key = `${hash}|${toHex(issuer.subject.raw)}|${toHex(issuer.spki)}`;
    let h = this.certIds.get(key);
    if (!h) {
      const p = certIdFor(cert, issuer, hash);
      h = p.then(({ issuerNameHash, issuerKeyHash }) => ({ issuerNameHash, issuerKeyHash }));
      this.certIds.set(key, h);
      const mine = h;
      mine.catch(() => this.certIds.deleteIf(key, mine));
    }
    return { hash, ...(await h), serialNumber: cert.serialNumber };
  };
}

const memos = new WeakMap<ChainCache, NvidiaCollateralMemo>();

/** The memo kept with `cache` (created on first use); none without a cache. */
export function nvidiaCollateralMemo(cache: ChainCache | undefined): NvidiaCollateralMemo | undefined {
  if (!cache) return undefined;
  let m = memos.get(cache);
  if (!m) memos.set(cache, (m = new NvidiaCollateralMemo()));
  return m;
}
