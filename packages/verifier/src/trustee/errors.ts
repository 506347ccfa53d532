/**
 * Error codes of the Trustee (CoCo KBS / Attestation Service) interoperability layer (stable public API,
 * CONTRIBUTING.md "Errors"). The binding codes (`ERR_TRUSTEE_RUNTIME_DATA`, `_NONCE_MISMATCH`,
 * `_DEVICE_MISMATCH`) live with the binding scheme in `@ccinfer/core`.
 */
export type TrusteeErrorCode =
  // evidence.ts — the JSON shapes guest-components attesters send (ParseError)
  | 'ERR_TRUSTEE_EVIDENCE_MALFORMED' // not the SNP / TDX / composite evidence shape
  | 'ERR_TRUSTEE_TEE_UNSUPPORTED' // a TEE other than snp / tdx as primary evidence
  | 'ERR_TRUSTEE_SNP_LEAF_MISSING' // cert_chain carries no VCEK / VLEK (KDS fetch not done here)
  // jwe.ts — the guest side of a resource response
  | 'ERR_TRUSTEE_JWE_MALFORMED' // ParseError: protected header not JSON / unsupported alg or enc
  | 'ERR_TRUSTEE_JWE_DECRYPT' // VerificationError: key unwrap or AES-GCM open failed (wrong key, tampered)
  // ear.ts — Attestation Service EAR tokens
  | 'ERR_TRUSTEE_EAR_MALFORMED' // ParseError: not a JWT / not an EAR claims set
  | 'ERR_TRUSTEE_EAR_SIGNATURE' // VerificationError: signature does not verify with the configured key / JWKS
  | 'ERR_TRUSTEE_EAR_EXPIRED' // VerificationError: exp / iat outside the accepted window at `now`
  | 'ERR_TRUSTEE_EAR_PROFILE' // VerificationError: eat_profile not an accepted profile
  | 'ERR_TRUSTEE_EAR_NONCE' // VerificationError: runtime-data nonce of a submod is not ours
  | 'ERR_TRUSTEE_EAR_SUBMOD_MISSING' // PolicyError: a required submod (cpu0, gpuN) is absent
  | 'ERR_TRUSTEE_EAR_STATUS'; // PolicyError: a submod's ear.status is not acceptable

/** Registers these codes in the closed {@link CcinferErrorCode} union (core/src/errors.ts). */
declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<TrusteeErrorCode, true> {}
}
