/**
 * @ccinfer/verifier/trustee — for model owners and key brokers: releasing secrets to appraised pods
 * (`releaseTo`), Trustee KBS evidence shapes, the KBS JWE, and Trustee Attestation Service EAR tokens. A subpath
 * of its own so that browser clients, which need none of it, do not carry it.
 */
import type {} from './error-codes.js'; // registers every code of this package in CcinferErrorCode
export { releaseTo, documentDigest, type Release, type ReleaseOptions } from './release.js';
export { jweToTeePubKey, openKbsResponse, type FlattenedJwe } from './trustee/jwe.js';
export {
  parseKbsAttestation,
  bundleFromKbsAttestation,
  parseTrusteeSnpEvidence,
  encodeTrusteeSnpEvidence,
  parseTrusteeTdxEvidence,
  encodeTrusteeTdxEvidence,
  snpReportFromJson,
  snpReportToJson,
  type KbsAttestation,
  type TrusteeBundle,
  type TrusteeBundleOptions,
  type TrusteeSnpEvidence,
  type TrusteeTdxEvidence,
  type SnpCertType,
} from './trustee/evidence.js';
export { verifyTrusteeEar, TRUSTEE_EAR_PROFILES, type TrusteeEarOptions, type TrusteeEarResult, type TrusteeEarSubmod, type EarSubmodStatus } from './trustee/ear.js';
export type { TrusteeErrorCode } from './trustee/errors.js';
