/**
 * Minting X.509 material for tests and the simulated pod: key pairs, certificates with any extensions,
 * CRLs. Built on @ccinfer/core's DER encoder and WebCrypto, so it runs in Node and in browsers.
 * Nothing here is used by verification.
 */
import { concat, subtle, toBase64, utf8, type HashName } from '@ccinfer/core';
import { bs, der, tlv } from '@ccinfer/core/internal';
import { OID } from '../x509/oids.js';

export type KeyKind = 'P-256' | 'P-384' | 'RSA-PSS';

export interface KeyPair {
  kind: KeyKind;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
}

export async function generateKey(kind: KeyKind, rsaBits = 2048): Promise<KeyPair> {
  const pair = (
    kind === 'RSA-PSS'
      ? await subtle().generateKey({ name: 'RSA-PSS', modulusLength: rsaBits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-384' }, true, ['sign', 'verify'])
      : await subtle().generateKey({ name: 'ECDSA', namedCurve: kind }, true, ['sign', 'verify'])
  ) as CryptoKeyPair;
  return { kind, privateKey: pair.privateKey, publicKey: pair.publicKey, spki: new Uint8Array(await subtle().exportKey('spki', pair.publicKey)) };
}

export type SigAlg = 'ecdsa-sha256' | 'ecdsa-sha384' | 'rsa-pss-sha384';

function hashOid(h: HashName): string {
  return h === 'SHA-256' ? OID.sha256 : h === 'SHA-384' ? OID.sha384 : OID.sha512;
}

/** AlgorithmIdentifier DER. PSS parameters with or without the explicit trailerField (both occur at AMD). */
export function algorithmIdentifier(alg: SigAlg, pssTrailer = false): Uint8Array {
  if (alg === 'ecdsa-sha256') return der.seq(der.oid(OID.ecdsaWithSha256));
  if (alg === 'ecdsa-sha384') return der.seq(der.oid(OID.ecdsaWithSha384));
  const h = der.seq(der.oid(hashOid('SHA-384')));
  const params = [der.ctx(0, h), der.ctx(1, der.seq(der.oid(OID.mgf1), h)), der.ctx(2, der.int(48))];
  if (pssTrailer) params.push(der.ctx(3, der.int(1)));
  return der.seq(der.oid(OID.rsassaPss), der.seq(...params));
}

/** P1363 r‖s → DER Ecdsa-Sig-Value. */
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  const n = sig.length / 2;
  return der.seq(der.int(sig.subarray(0, n)), der.int(sig.subarray(n)));
}

/** Signs `data`; ECDSA signatures are returned in X.509's DER form unless `raw` (P1363 r‖s). */
export async function sign(key: KeyPair, alg: SigAlg, data: Uint8Array, raw = false): Promise<Uint8Array> {
  if (alg === 'rsa-pss-sha384') return new Uint8Array(await subtle().sign({ name: 'RSA-PSS', saltLength: 48 }, key.privateKey, bs(data)));
  const hash = alg === 'ecdsa-sha256' ? 'SHA-256' : 'SHA-384';
  const sig = new Uint8Array(await subtle().sign({ name: 'ECDSA', hash }, key.privateKey, bs(data)));
  return raw ? sig : p1363ToDer(sig);
}

export function defaultAlg(key: KeyPair): SigAlg {
  return key.kind === 'RSA-PSS' ? 'rsa-pss-sha384' : key.kind === 'P-256' ? 'ecdsa-sha256' : 'ecdsa-sha384';
}

/** A Name from `[oid, value]` pairs (UTF8String values), or just a common name. */
export function name(cnOrAttrs: string | [string, string][]): Uint8Array {
  const attrs = typeof cnOrAttrs === 'string' ? [[OID.commonName, cnOrAttrs] as [string, string]] : cnOrAttrs;
  return der.seq(...attrs.map(([oid, v]) => der.set(der.seq(der.oid(oid), der.utf8(v)))));
}

export interface ExtensionSpec {
  oid: string;
  critical?: boolean;
  /** The DER the extension defines (placed in extnValue). */
  value: Uint8Array;
}

export function extension(e: ExtensionSpec): Uint8Array {
  return der.seq(der.oid(e.oid), ...(e.critical ? [der.bool(true)] : []), der.octets(e.value));
}

export interface CertificateSpec {
  subject: Uint8Array | string;
  issuer: Uint8Array | string;
  /** The certified key. */
  publicKey: KeyPair | Uint8Array;
  /** The issuer's key. */
  signer: KeyPair;
  alg?: SigAlg;
  pssTrailer?: boolean;
  serial?: number | bigint | Uint8Array;
  notBefore?: Date;
  notAfter?: Date;
  /** Adds critical basicConstraints cA (and keyUsage keyCertSign|cRLSign). */
  ca?: boolean | { pathLen: number };
  extensions?: ExtensionSpec[];
  /**
   * The exact elements inside the `[3]` extensions wrapper, replacing the extensions above (to mint
   * malformed wrappers: two SEQUENCEs, an empty one, something else). Signed like any other TBS.
   */
  extensionsWrapper?: Uint8Array[];
  /** Mutates the TBS bytes before signing (to mint broken certificates). */
  tamperTbs?: (tbs: Uint8Array) => Uint8Array;
}

export async function mintCertificate(spec: CertificateSpec): Promise<Uint8Array> {
  const alg = spec.alg ?? defaultAlg(spec.signer);
  const algId = algorithmIdentifier(alg, spec.pssTrailer);
  const exts: Uint8Array[] = [];
  if (spec.ca) {
    const pathLen = typeof spec.ca === 'object' ? [der.int(spec.ca.pathLen)] : [];
    exts.push(extension({ oid: OID.basicConstraints, critical: true, value: der.seq(der.bool(true), ...pathLen) }));
    exts.push(extension({ oid: OID.keyUsage, critical: true, value: der.bits(Uint8Array.of(0x06), 1) }));
  }
  for (const e of spec.extensions ?? []) exts.push(extension(e));
  const toName = (n: Uint8Array | string): Uint8Array => (typeof n === 'string' ? name(n) : n);
  const spki = spec.publicKey instanceof Uint8Array ? spec.publicKey : spec.publicKey.spki;
  let tbs = der.seq(
    der.ctx(0, der.int(2)),
    der.int(spec.serial ?? 1),
    algId,
    toName(spec.issuer),
    der.seq(der.time(spec.notBefore ?? new Date('2024-01-01T00:00:00Z')), der.time(spec.notAfter ?? new Date('2049-01-01T00:00:00Z'))),
    toName(spec.subject),
    spki,
    ...(spec.extensionsWrapper ? [der.ctx(3, concat(...spec.extensionsWrapper))] : exts.length ? [der.ctx(3, der.seq(...exts))] : []),
  );
  const signature = await sign(spec.signer, alg, tbs);
  if (spec.tamperTbs) tbs = spec.tamperTbs(tbs);
  return der.seq(tbs, algId, der.bits(signature));
}

export interface CrlSpec {
  issuer: Uint8Array | string;
  signer: KeyPair;
  alg?: SigAlg;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** `entryFields` replaces the crlEntryExtensions (reason) of an entry with these exact DER elements. */
  revoked?: { serial: number | bigint | Uint8Array; date?: Date; reason?: number; entryFields?: Uint8Array[] }[];
  /** issuingDistributionPoint fullName URIs (RFC 5280 §5.2.5), critical as the RFC requires. */
  distributionPoint?: string[];
  /** The exact elements inside the `[0]` crlExtensions wrapper, replacing `distributionPoint`. */
  extensionsWrapper?: Uint8Array[];
}

export async function mintCrl(spec: CrlSpec): Promise<Uint8Array> {
  const alg = spec.alg ?? defaultAlg(spec.signer);
  const algId = algorithmIdentifier(alg);
  const entries = (spec.revoked ?? []).map((r) =>
    der.seq(
      der.int(r.serial),
      der.time(r.date ?? spec.thisUpdate),
      ...(r.entryFields ?? (r.reason !== undefined ? [der.seq(der.seq(der.oid(OID.crlReason), der.octets(der.enumerated(r.reason))))] : [])),
    ),
  );
  const tbs = der.seq(
    der.int(1),
    algId,
    typeof spec.issuer === 'string' ? name(spec.issuer) : spec.issuer,
    der.time(spec.thisUpdate),
    ...(spec.nextUpdate ? [der.time(spec.nextUpdate)] : []),
    ...(entries.length ? [der.seq(...entries)] : []),
    ...(spec.extensionsWrapper
      ? [der.ctx(0, concat(...spec.extensionsWrapper))]
      : spec.distributionPoint
      ? [der.ctx(0, der.seq(extension({ oid: OID.issuingDistributionPoint, critical: true, value: der.seq(der.ctx(0, der.ctx(0, concat(...spec.distributionPoint.map((u) => tlv(0x86, utf8(u))))))) })))]
      : []),
  );
  return der.seq(tbs, algId, der.bits(await sign(spec.signer, alg, tbs)));
}

export function toPem(ders: Uint8Array | Uint8Array[], label = 'CERTIFICATE'): string {
  return (Array.isArray(ders) ? ders : [ders])
    .map((d) => `-----BEGIN ${label}-----\n${toBase64(d).replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`)
    .join('');
}

