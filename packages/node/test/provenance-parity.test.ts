/**
 * The two Sigstore bundle verifiers side by side on the same cases, so they cannot drift: `sigstoreBundleVerifier`
 * (@ccinfer/node, on @sigstore/verify and node:crypto) and `webSigstoreBundleVerifier` (@ccinfer/verifier/sigstore,
 * WebCrypto only: what browsers use). Real data: the Tinfoil release bundle (peers/tinfoil-attestation-bundle.json)
 * and its Genoa SEV-SNP report; every negative is that bundle with one thing changed, and both verifiers must
 * refuse it with the same error class and code (or both accept it with the same result).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError, VerificationError } from '@ccinfer/core';
import { parsePolicy, verifySnp, type ProvenancePolicy, type SigstoreBundleVerifier } from '@ccinfer/verifier';
import { SIGSTORE_TRUSTED_ROOT, webSigstoreBundleVerifier } from '@ccinfer/verifier/sigstore';
import { sigstoreBundleVerifier } from '../src/provenance.js';
import { expectCode } from '../../../test-support/helpers.js';
import { readBytes, readText, vectorsDir } from '../../../test-support/vectors.js';
import { BUNDLE_CASES, ROOT_CASES, TINFOIL, TINFOIL_BUNDLE, TINFOIL_RELEASE, mutate } from '../../../test-support/sigstore-cases.js';

const snp = vectorsDir('snp');
const now = new Date('2026-06-01T00:00:00Z');
const RELEASE: ProvenancePolicy = TINFOIL_RELEASE;
const vector = TINFOIL;
const bundle = TINFOIL_BUNDLE;

/** The two verifiers, each built from the same trusted root. */
const pair = (): { node: SigstoreBundleVerifier; web: SigstoreBundleVerifier } => ({ node: sigstoreBundleVerifier(), web: webSigstoreBundleVerifier() });

/** Both verifiers, built from the same trusted root, by name. */
const verifiers = (trustedRoot?: unknown): [string, SigstoreBundleVerifier][] => [
  ['node (@sigstore/verify)', sigstoreBundleVerifier(trustedRoot === undefined ? {} : { trustedRoot })],
  ['web (WebCrypto)', webSigstoreBundleVerifier(trustedRoot === undefined ? {} : { trustedRoot })],
];

describe('Sigstore verifiers side by side on the Tinfoil release bundle', () => {
  it('both accept the real bundle offline and return the same payload, certificate, log index and time', async () => {
    const { node, web } = pair();
    const a = await node(bundle);
    const b = await web(bundle);
    expect(b).toEqual(a);
    expect(b.logIndex).toBe('845420855');
    expect(b.integratedTime.toISOString()).toBe('2026-01-22T22:42:02.000Z');
    expect(b.payloadType).toBe('application/vnd.in-toto+json');
  });

  it.each(BUNDLE_CASES)('both refuse %s with the same code', async (_name, b, cls, code) => {
    for (const [, verify] of verifiers()) await expectCode(verify(b), cls === 'ParseError' ? ParseError : VerificationError, code);
  });

  it.each(ROOT_CASES)('with a trusted root that has %s, both refuse with the same code', async (_name, root, code) => {
    for (const [, verify] of verifiers(root)) await expectCode(verify(bundle), VerificationError, code);
  });

  it('both refuse a trusted root that is not a TrustedRoot document at once: ERR_PROVENANCE_TRUSTED_ROOT_INVALID', async () => {
    for (const make of [sigstoreBundleVerifier, webSigstoreBundleVerifier]) {
      for (const trustedRoot of [{}, 'x', mutate((r) => { r.tlogs = []; }, SIGSTORE_TRUSTED_ROOT)]) {
        await expectCode(() => make({ trustedRoot }), ConfigError, 'ERR_PROVENANCE_TRUSTED_ROOT_INVALID');
      }
    }
  });

  describe('through verifySnp with the release policy: the same verdicts and codes', () => {
    const evidence = (set: string) => ({
      report: readBytes(snp, set, 'report.bin'),
      leaf: readBytes(snp, set, 'vcek.der'),
      chain: readText(snp, set, 'cert_chain.pem'),
    });
    const appraise = async (verifyBundle: SigstoreBundleVerifier, o: { policy?: Partial<ProvenancePolicy>; bundle?: unknown; set?: string } = {}) => {
      const policy = parsePolicy({ version: 1, snp: { revocation: 'allow-unavailable', provenance: { ...RELEASE, ...o.policy } } });
      const doc = await verifySnp(evidence(o.set ?? 'tinfoil-genoa-v3-bundle'), { now, policy: policy.snp, provenance: { bundle: o.bundle ?? bundle, verifyBundle, subjectDigest: vector.digest } });
      return { ok: doc.ok, codes: doc.errors.map((e) => e.code), provenance: doc.claims['provenance'], checks: doc.checks.map((c) => [c.id, c.status]) };
    };
    const runs: [string, Parameters<typeof appraise>[1], string[]][] = [
      ['the release identity: accepted', {}, []],
      ['another repository', { policy: { repository: 'evil/confidential-model-router' } }, ['ERR_PROVENANCE_IDENTITY_MISMATCH']],
      ['another issuer', { policy: { issuer: 'https://accounts.google.com' } }, ['ERR_PROVENANCE_IDENTITY_MISMATCH']],
      ['a branch instead of a release tag', { policy: { workflowRef: 'refs/heads/main' } }, ['ERR_PROVENANCE_IDENTITY_MISMATCH']],
      ['a measurement not in the statement (another Tinfoil report)', { set: 'tinfoil-genoa-v3-gotest' }, ['ERR_PROVENANCE_MEASUREMENT']],
      ['another predicate type', { policy: { predicateType: 'https://slsa.dev/provenance/v1', measurementPath: 'snp_measurement' } }, ['ERR_PROVENANCE_PREDICATE']],
      ['a tampered statement', { bundle: BUNDLE_CASES[0]![1] }, ['ERR_PROVENANCE_TLOG_INVALID']],
    ];
    it.each(runs)('%s', async (_name, o, codes) => {
      const { node, web } = pair();
      const a = await appraise(node, o);
      const b = await appraise(web, o);
      expect(b).toEqual(a);
      expect(b.codes).toEqual(codes);
      expect(b.ok).toBe(codes.length === 0);
    });
  });
});
