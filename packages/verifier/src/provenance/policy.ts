/**
 * The `snp.provenance` policy section: instead of raw measurements, name the release identity whose
 * Sigstore-signed in-toto statement lists the allowed launch measurements. No crypto here.
 *
 * The identity is read from the Fulcio signing certificate (Fulcio "OID information", arc
 * 1.3.6.1.4.1.57264.1): the OIDC issuer, the source repository and the ref the workflow ran on. The
 * certificate's subject (SAN URI) of a GitHub Actions workflow is
 * `https://github.com/OWNER/REPO/.github/workflows/FILE@REF`.
 */
import { object, pattern, text, type FieldErrors } from '../policy-schema.js';

export interface ProvenancePolicy {
  /** OIDC issuer of the signing certificate, exact (GitHub Actions: `https://token.actions.githubusercontent.com`). */
  issuer: string;
  /** Source repository `OWNER/REPO`, exact (compared with the certificate's source repository URI). */
  repository?: string;
  /** Regular expression the whole certificate subject (SAN URI or e-mail) must match. */
  subjectPattern?: string;
  /** Regular expression the whole source ref must match, e.g. `refs/tags/v.*` (release tags only). */
  workflowRef?: string;
  /** in-toto predicate type of the statement, exact. */
  predicateType: string;
  /**
   * Dotted path of the SNP launch measurement(s) in the predicate: a 48-byte hex string or an array of them.
   * Optional for the predicate types ccinfer knows (`KNOWN_PREDICATES`).
   */
  measurementPath?: string;
}

/** Where known predicate types keep the SNP launch measurement. */
export const KNOWN_PREDICATES: Readonly<Record<string, string>> = {
  // Tinfoil's multi-platform release predicate: `snp_measurement` is the 48-byte launch digest (hex).
  'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1': 'snp_measurement',
};

const KEYS = ['issuer', 'repository', 'subjectPattern', 'workflowRef', 'predicateType', 'measurementPath'] as const;

export function parseProvenancePolicy(v: unknown, path: string, errs: FieldErrors): ProvenancePolicy | undefined {
  const o = object(v, path, errs, KEYS);
  if (!o) return undefined;
  const before = errs.length;
  const issuer = text(o['issuer'], `${path}.issuer`, errs);
  const predicateType = text(o['predicateType'], `${path}.predicateType`, errs);
  if (o['issuer'] === undefined) errs.push(`${path}.issuer: required`);
  if (o['predicateType'] === undefined) errs.push(`${path}.predicateType: required`);
  const repository = text(o['repository'], `${path}.repository`, errs);
  if (repository !== undefined && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) errs.push(`${path}.repository: must be OWNER/REPO`);
  const subjectPattern = pattern(o['subjectPattern'], `${path}.subjectPattern`, errs);
  const workflowRef = pattern(o['workflowRef'], `${path}.workflowRef`, errs);
  // An issuer alone would accept any workflow of any repository that can get a token from that issuer.
  if (o['repository'] === undefined && o['subjectPattern'] === undefined) errs.push(`${path}: needs repository or subjectPattern (an issuer alone pins no release)`);
  const measurementPath = text(o['measurementPath'], `${path}.measurementPath`, errs);
  if (measurementPath === undefined && predicateType !== undefined && !(predicateType in KNOWN_PREDICATES)) {
    errs.push(`${path}.measurementPath: required for predicate type ${predicateType}`);
  }
  if (errs.length > before || issuer === undefined || predicateType === undefined) return undefined;
  const p: ProvenancePolicy = { issuer, predicateType };
  if (repository !== undefined) p.repository = repository;
  if (subjectPattern !== undefined) p.subjectPattern = subjectPattern;
  if (workflowRef !== undefined) p.workflowRef = workflowRef;
  if (measurementPath !== undefined) p.measurementPath = measurementPath;
  return p;
}
