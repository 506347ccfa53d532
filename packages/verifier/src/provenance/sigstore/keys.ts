/**
 * Signatures made by the keys of a Sigstore trusted root (Rekor, CT logs) and by the Fulcio leaf, on WebCrypto
 * through the x509 signature code. Key types follow protobuf-specs `PublicKeyDetails`; the ECDSA ones are what
 * the public-good Rekor v1 log and CT logs use. A key of another type verifies nothing here (fail closed).
 */
import { CcinferError } from '@ccinfer/core';
import { OID, spkiInfo, verifySignature, type AlgorithmIdentifier } from '../../x509/index.js';
import type { LogAuthority } from './trusted-root.js';

const ECDSA_BY_DETAILS: Record<string, string> = {
  PKIX_ECDSA_P256_SHA_256: OID.ecdsaWithSha256,
  PKIX_ECDSA_P384_SHA_384: OID.ecdsaWithSha384,
  PKIX_ECDSA_P521_SHA_512: OID.ecdsaWithSha512,
};

const algorithm = (oid: string): AlgorithmIdentifier => ({ oid, params: undefined, raw: new Uint8Array(0) });

/** Verifies a DER ECDSA signature; a malformed key or signature is a failed verification, not an error. */
async function ecdsa(oid: string, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  try {
    return await verifySignature(algorithm(oid), spki, data, signature);
  } catch (err) {
    if (err instanceof CcinferError) return false;
    throw err;
  }
}

/** A log's signature (SET, checkpoint note, SCT) with the log's key as the trusted root types it. */
export function verifyLogSignature(log: LogAuthority, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const oid = ECDSA_BY_DETAILS[log.keyDetails];
  return oid === undefined ? Promise.resolve(false) : ecdsa(oid, log.spki, data, signature);
}

/**
 * The DSSE signature with the Fulcio certificate's key. Fulcio issues ECDSA keys; the hash follows the curve
 * as in Sigstore's algorithm registry (P-256 with SHA-256, P-384 with SHA-384, P-521 with SHA-512).
 */
export function verifyLeafSignature(spki: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  let oid: string | undefined;
  try {
    const info = spkiInfo(spki);
    oid = info.kind === 'ec' ? { 'P-256': OID.ecdsaWithSha256, 'P-384': OID.ecdsaWithSha384, 'P-521': OID.ecdsaWithSha512 }[info.curve!.name] : undefined;
  } catch {
    oid = undefined;
  }
  return oid === undefined ? Promise.resolve(false) : ecdsa(oid, spki, data, signature);
}
