/**
 * Signed provenance as reference values: the pod's SNP launch measurement is accepted when a Sigstore bundle
 * signed by the policy's release identity lists it. Steps, each recorded on the CheckList:
 *
 * - `snp.provenance.bundle`: the injected `SigstoreBundleVerifier` checks the bundle against a Sigstore trusted
 *   root: signing certificate → Fulcio CA, Rekor entry (inclusion proof, checkpoint, signed entry timestamp),
 *   certificate valid at the log's integrated time, DSSE signature (PAE, DSSE v1) over the statement.
 * - `snp.provenance.identity`: the certificate's OIDC issuer, repository, subject and ref vs the policy.
 * - `snp.provenance.statement`: in-toto Statement, predicate type, subject digest, the listed measurements.
 * - `snp.provenance.measurement`: the report's MEASUREMENT is one of them.
 *
 * The Sigstore verification is injected (as fetch and native calls are): the maintained sigstore libraries use
 * Node built-ins, so `@ccinfer/node` provides one (`sigstoreBundleVerifier`) and this module stays Web-only.
 */
import { CcinferError, CollateralError, ParseError, PolicyError, toHex, type CheckList } from '@ccinfer/core';
import { matchesWhole } from '../policy-schema.js';
import { signerIdentity, type SignerIdentity } from './identity.js';
import { KNOWN_PREDICATES, type ProvenancePolicy } from './policy.js';
import { parseInTotoStatement, predicateMeasurements } from './statement.js';

/** What a Sigstore bundle verifier returns once every signature, proof and chain in the bundle has verified. */
export interface VerifiedSigstoreBundle {
  /** DSSE payloadType of the signed envelope. */
  payloadType: string;
  /** The DSSE payload: the exact bytes the signature covers. */
  payload: Uint8Array;
  /** The Fulcio-issued signing certificate (DER) that verified the signature. */
  certificate: Uint8Array;
  /** Rekor log index of the entry (decimal string: it can exceed 2^53). */
  logIndex: string;
  /** The time Rekor integrated the entry (the certificate was valid then). */
  integratedTime: Date;
}

/**
 * Verifies a parsed Sigstore bundle (JSON) against a trusted root, or throws a CcinferError
 * (`ERR_PROVENANCE_BUNDLE_INVALID`, `…_CERTIFICATE_INVALID`, `…_TLOG_INVALID`, `…_SIGNATURE_INVALID`).
 */
export type SigstoreBundleVerifier = (bundle: unknown) => Promise<VerifiedSigstoreBundle>;

/** The signed provenance given to the client along with the evidence (a file, not served by the pod). */
export interface ProvenanceInput {
  /** The Sigstore bundle, parsed JSON (`application/vnd.dev.sigstore.bundle…+json`). */
  bundle: unknown;
  /** Verifies the bundle; `sigstoreBundleVerifier()` from `@ccinfer/node`. */
  verifyBundle: SigstoreBundleVerifier;
  /** SHA-256 (hex) the statement's subject must list, e.g. the digest of the released artifact. */
  subjectDigest?: string | undefined;
}

/** The `provenance` claim of an accepted (or refused) appraisal. */
export interface ProvenanceClaim {
  issuer?: string;
  subject?: string;
  repository?: string;
  workflow?: string;
  ref?: string;
  commit?: string;
  logIndex: string;
  integratedTime: string;
  predicateType?: string;
  subjects?: { name: string; sha256: string }[];
}

function identityMismatch(field: string, expected: string, actual: string | undefined): PolicyError {
  return new PolicyError('ERR_PROVENANCE_IDENTITY_MISMATCH', `signer ${field} ${actual ?? '(absent)'} is not the policy's ${expected}`, { field: `provenance.${field}`, expected, actual });
}

/** Compares the signer identity with the policy; the repository host is the one the pinned issuer serves. */
export function checkIdentity(id: SignerIdentity, policy: ProvenancePolicy): string {
  if (id.issuer !== policy.issuer) throw identityMismatch('issuer', policy.issuer, id.issuer);
  if (policy.repository !== undefined) {
    let path: string | undefined;
    try {
      path = id.repositoryUri === undefined ? undefined : new URL(id.repositoryUri).pathname;
    } catch {
      path = undefined;
    }
    if (path !== `/${policy.repository}`) throw identityMismatch('repository', policy.repository, id.repositoryUri);
  }
  if (policy.subjectPattern !== undefined && (id.subject === undefined || !matchesWhole(policy.subjectPattern, id.subject))) {
    throw identityMismatch('subject', policy.subjectPattern, id.subject);
  }
  if (policy.workflowRef !== undefined && (id.ref === undefined || !matchesWhole(policy.workflowRef, id.ref))) {
    throw identityMismatch('ref', policy.workflowRef, id.ref);
  }
  return `${id.subject ?? id.repositoryUri} (issuer ${id.issuer})`;
}

/**
 * Runs the `snp.provenance.*` steps for `measurement` and writes the `provenance` claim into `into`. Throws the
 * first failing step's error after recording it.
 */
export async function appraiseProvenance(
  measurement: Uint8Array,
  policy: ProvenancePolicy,
  input: ProvenanceInput | undefined,
  checks: CheckList,
  into: Record<string, unknown>,
): Promise<void> {
  const verified = await checks.run(
    'snp.provenance.bundle',
    async () => {
      if (!input) throw new CollateralError('ERR_PROVENANCE_MISSING', 'the policy pins a release identity (snp.provenance) but no provenance bundle was given');
      try {
        return await input.verifyBundle(input.bundle);
      } catch (err) {
        if (err instanceof CcinferError) throw err;
        throw new ParseError('ERR_PROVENANCE_BUNDLE_INVALID', 'the Sigstore bundle could not be verified', { cause: err });
      }
    },
    (v) => `Sigstore bundle verified: Fulcio chain, Rekor entry ${v.logIndex} (inclusion proof, signed entry timestamp), DSSE signature`,
  );
  const claim: ProvenanceClaim = { logIndex: verified.logIndex, integratedTime: verified.integratedTime.toISOString() };
  into['provenance'] = claim;

  const id = signerIdentity(verified.certificate);
  for (const [k, v] of [['issuer', id.issuer], ['subject', id.subject], ['repository', id.repositoryUri], ['workflow', id.workflow], ['ref', id.ref], ['commit', id.commit]] as const) {
    if (v !== undefined) claim[k] = v;
  }
  await checks.run('snp.provenance.identity', () => checkIdentity(id, policy), (d) => d);

  const measurements = await checks.run(
    'snp.provenance.statement',
    () => {
      const st = parseInTotoStatement(verified.payloadType, verified.payload);
      claim.predicateType = st.predicateType;
      claim.subjects = st.subject.map((s) => ({ name: s.name, sha256: s.digest['sha256']! }));
      if (st.predicateType !== policy.predicateType) {
        throw new PolicyError('ERR_PROVENANCE_PREDICATE', `statement predicate type ${st.predicateType} is not the policy's ${policy.predicateType}`, { field: 'provenance.predicateType', expected: policy.predicateType, actual: st.predicateType });
      }
      const want = input?.subjectDigest?.toLowerCase();
      if (want !== undefined && !st.subject.some((s) => s.digest['sha256'] === want)) {
        throw new PolicyError('ERR_PROVENANCE_SUBJECT_MISMATCH', `no statement subject has SHA-256 ${want}`, { field: 'provenance.subject', expected: want, actual: claim.subjects });
      }
      const path = policy.measurementPath ?? KNOWN_PREDICATES[policy.predicateType]!;
      const list = predicateMeasurements(st.predicate, path);
      if (!list) throw new PolicyError('ERR_PROVENANCE_PREDICATE', `the predicate has no 48-byte hex measurement at ${path}`, { field: `provenance.predicate.${path}` });
      return list;
    },
    (l) => `in-toto statement ${policy.predicateType} lists ${l.length} measurement(s)`,
  );

  await checks.run(
    'snp.provenance.measurement',
    () => {
      const hex = toHex(measurement);
      if (!measurements.includes(hex)) {
        throw new PolicyError('ERR_PROVENANCE_MEASUREMENT', `measurement ${hex} is not in the signed statement`, { field: 'measurement', expected: measurements, actual: hex });
      }
      return hex;
    },
    (hex) => `measurement ${hex} is signed by ${claim.repository ?? claim.subject} (Rekor ${claim.logIndex})`,
  );
}
