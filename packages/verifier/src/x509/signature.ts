/**
 * Signature algorithms for X.509, CRLs and OCSP, mapped onto WebCrypto. The algorithm always comes from the
 * signed structure and is checked against what the key can do; nothing is negotiated.
 *
 * RSASSA-PSS parameters (RFC 4055 §3.1) are parsed strictly: hash and MGF1 hash must be the same SHA-2,
 * trailerField, when present, must be 1 (AMD certificates issued 2022–2023 encode it explicitly, later ones omit
 * it; both are valid DER of the same value).
 */
import { ParseError, VerificationError, concat, subtle, toHex, type HashName } from '@ccinfer/core';
import { BoundedMap, Tag, bs, children, decodeDer, readOid, readSmallInt, readUnsigned, sequence, type DerNode } from '@ccinfer/core/internal';
import { parseAlgorithm, type AlgorithmIdentifier } from './certificate.js';
import { OID } from './oids.js';

const HASHES: Record<string, HashName> = { [OID.sha256]: 'SHA-256', [OID.sha384]: 'SHA-384', [OID.sha512]: 'SHA-512' };

export type SignatureScheme =
  | { kind: 'ecdsa'; hash: HashName }
  | { kind: 'rsa-pss'; hash: HashName; saltLength: number }
  | { kind: 'rsa-pkcs1'; hash: HashName };

function unsupported(what: string): never {
  throw new VerificationError('ERR_X509_UNSUPPORTED_ALGORITHM', `unsupported signature algorithm ${what}`);
}

function pssParams(params: DerNode | undefined): SignatureScheme {
  if (!params) unsupported('RSASSA-PSS without parameters');
  let hash: HashName = 'SHA-1' as HashName;
  let mgfHash: HashName = 'SHA-1' as HashName;
  let saltLength = 20;
  for (const field of sequence(params, 'RSASSA-PSS-params')) {
    const inner = children(field)[0];
    switch (field.tag) {
      case 0xa0:
        hash = HASHES[parseAlgorithm(inner, 'hashAlgorithm').oid] ?? unsupported('PSS hash');
        break;
      case 0xa1: {
        const mgf = parseAlgorithm(inner, 'maskGenAlgorithm');
        if (mgf.oid !== OID.mgf1) unsupported(`PSS mask ${mgf.oid}`);
        mgfHash = HASHES[parseAlgorithm(mgf.params, 'MGF1 hash').oid] ?? unsupported('MGF1 hash');
        break;
      }
      case 0xa2:
        saltLength = readSmallInt(inner, 'saltLength');
        break;
      case 0xa3:
        if (readSmallInt(inner, 'trailerField') !== 1) unsupported('PSS trailerField other than 1');
        break;
      default:
        throw new ParseError('ERR_X509_MALFORMED', 'unknown RSASSA-PSS parameter');
    }
  }
  // SHA-1 defaults are not acceptable for any profile here; WebCrypto also ties MGF1 to the message hash.
  if ((hash as string) === 'SHA-1' || hash !== mgfHash) unsupported('RSASSA-PSS with SHA-1 or mismatched MGF1 hash');
  return { kind: 'rsa-pss', hash, saltLength };
}

export function signatureScheme(alg: AlgorithmIdentifier): SignatureScheme {
  switch (alg.oid) {
    case OID.ecdsaWithSha256:
      return { kind: 'ecdsa', hash: 'SHA-256' };
    case OID.ecdsaWithSha384:
      return { kind: 'ecdsa', hash: 'SHA-384' };
    case OID.ecdsaWithSha512:
      return { kind: 'ecdsa', hash: 'SHA-512' };
    case OID.rsassaPss:
      return pssParams(alg.params);
    case OID.sha256WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-256' };
    case OID.sha384WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-384' };
    case OID.sha512WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-512' };
    default:
      return unsupported(alg.oid);
  }
}

const CURVES: Record<string, { name: 'P-256' | 'P-384' | 'P-521'; size: number }> = {
  [OID.p256]: { name: 'P-256', size: 32 },
  [OID.p384]: { name: 'P-384', size: 48 },
  [OID.p521]: { name: 'P-521', size: 66 },
};

export interface SpkiInfo {
  kind: 'ec' | 'rsa';
  curve?: { name: 'P-256' | 'P-384' | 'P-521'; size: number };
}

export function spkiInfo(spki: Uint8Array): SpkiInfo {
  const [alg] = sequence(decodeDer(spki), 'SubjectPublicKeyInfo');
  const a = parseAlgorithm(alg, 'SubjectPublicKeyInfo.algorithm');
  if (a.oid === OID.ecPublicKey) {
    const curve = CURVES[readOid(a.params, 'namedCurve')];
    if (!curve) unsupported('EC curve');
    return { kind: 'ec', curve };
  }
  if (a.oid === OID.rsaEncryption) return { kind: 'rsa' };
  return unsupported(`public key ${a.oid}`);
}

const keyCache = new BoundedMap<string, Promise<CryptoKey>>(256);

/** Forgets memoized keys (benchmarks measure the cold path with it). */
export function clearKeyCache(): void {
  keyCache.clear();
}

/**
 * Imports (and memoizes) a verification key for a scheme: the one place certificate keys (X.509 chains,
 * CRLs, OCSP, SNP VCEK/VLEK, TDX PCK, NVIDIA device and RIM signer leaves) reach WebCrypto. WebCrypto
 * validates the key on import (an EC point must lie on its curve, SEC 1 §3.2.2; an RSA key must be a
 * well-formed RSAPublicKey) and rejects with a DOMException (`DataError`): that is a property of the
 * attacker-supplied certificate, so it becomes `ERR_X509_KEY_INVALID`, never an internal error.
 */
export function importVerifyKey(spki: Uint8Array, scheme: SignatureScheme): Promise<CryptoKey> {
  const info = spkiInfo(spki);
  let algorithm: EcKeyImportParams | RsaHashedImportParams;
  if (scheme.kind === 'ecdsa') {
    if (info.kind !== 'ec') unsupported('ECDSA signature with a non-EC key');
    algorithm = { name: 'ECDSA', namedCurve: info.curve!.name };
  } else {
    if (info.kind !== 'rsa') unsupported('RSA signature with a non-RSA key');
    algorithm = { name: scheme.kind === 'rsa-pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: scheme.hash };
  }
  const key = `${algorithm.name}:${'hash' in algorithm ? algorithm.hash : ''}:${toHex(spki)}`;
  let p = keyCache.get(key);
  if (!p) {
    const name = algorithm.name;
    const mine: Promise<CryptoKey> = subtle()
      .importKey('spki', bs(spki), algorithm, false, ['verify'])
      .catch((cause: unknown) => {
        // A failed import is not remembered (unless another call already replaced it): the next caller retries.
        keyCache.deleteIf(key, mine);
        throw new VerificationError('ERR_X509_KEY_INVALID', `the certificate's ${name} public key cannot be used: ${cause instanceof Error ? cause.name : 'import failed'}`, { cause });
      });
    mine.catch(() => undefined);
    p = mine;
    keyCache.set(key, p);
  }
  return p;
}

/** DER `Ecdsa-Sig-Value` (RFC 5480 / RFC 3279) → IEEE P1363 r‖s, each left-padded to the field size. */
export function ecdsaDerToP1363(sig: Uint8Array, size: number): Uint8Array {
  let r: Uint8Array;
  let s: Uint8Array;
  try {
    const parts = sequence(decodeDer(sig), 'Ecdsa-Sig-Value');
    if (parts.length !== 2 || parts[0]!.tag !== Tag.Integer) throw new Error('shape');
    r = readUnsigned(parts[0], 'r');
    s = readUnsigned(parts[1], 's');
  } catch (cause) {
    throw new VerificationError('ERR_X509_SIGNATURE_INVALID', 'ECDSA signature is not a DER Ecdsa-Sig-Value', { cause });
  }
  if (r.length > size || s.length > size) throw new VerificationError('ERR_X509_SIGNATURE_INVALID', 'ECDSA signature integer too large');
  const pad = (x: Uint8Array): Uint8Array => concat(new Uint8Array(size - x.length), x);
  return concat(pad(r), pad(s));
}

/**
 * Verifies `signature` (as carried in X.509/CRL/OCSP: DER for ECDSA) over `signed` with the key in `spki`.
 * Returns false for a well-formed signature that does not verify; throws for unsupported algorithms.
 */
export async function verifySignature(
  alg: AlgorithmIdentifier,
  spki: Uint8Array,
  signed: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const scheme = signatureScheme(alg);
  const key = await importVerifyKey(spki, scheme);
  if (scheme.kind === 'ecdsa') {
    const size = spkiInfo(spki).curve!.size;
    let p1363: Uint8Array;
    try {
      p1363 = ecdsaDerToP1363(signature, size);
    } catch {
      return false;
    }
    return subtle().verify({ name: 'ECDSA', hash: scheme.hash }, key, bs(p1363), bs(signed));
  }
  if (scheme.kind === 'rsa-pss') {
    return subtle().verify({ name: 'RSA-PSS', saltLength: scheme.saltLength }, key, bs(signature), bs(signed));
  }
  return subtle().verify({ name: 'RSASSA-PKCS1-v1_5' }, key, bs(signature), bs(signed));
}
