/**
 * The Web-only half of signed provenance: the `snp.provenance` policy section, in-toto statement parsing, the
 * Fulcio signer identity and the measurement decision, with a simulated bundle verifier (the real one, on the
 * sigstore libraries, is tested on the Tinfoil release in packages/node/test/provenance.test.ts).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcinferError, CheckList, ConfigError, ParseError, PolicyError, fromHex } from '@ccinfer/core';
import { der, tlv } from '@ccinfer/core/internal';
import {
  appraiseProvenance,
  checkIdentity,
  FULCIO_OID,
  parseInTotoStatement,
  parsePolicy,
  predicateMeasurements,
  signerIdentity,
  type ProvenancePolicy,
  type VerifiedSigstoreBundle,
} from '../../src/index.js';
import { generateKey, mintCertificate, type ExtensionSpec } from '../../src/testing.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const PT = 'application/vnd.in-toto+json';
const M1 = 'aa'.repeat(48);
const M2 = 'bb'.repeat(48);
const statement = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'image.raw', digest: { sha256: 'cd'.repeat(32) } }],
  predicateType: 'https://example.org/reference-values/v1',
  predicate: { snp: { measurements: [M1, M2] } },
  ...over,
});
const POLICY: ProvenancePolicy = {
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'acme/pod-image',
  workflowRef: 'refs/tags/v.*',
  predicateType: 'https://example.org/reference-values/v1',
  measurementPath: 'snp.measurements',
};

async function fulcioCert(v1 = false, extra: ExtensionSpec[] = []): Promise<Uint8Array> {
  const key = await generateKey('P-256');
  const utf8 = (s: string) => der.utf8(s);
  const raw = (s: string) => enc(s);
  const exts: ExtensionSpec[] = v1
    ? [
        { oid: FULCIO_OID.issuerV1, value: raw('https://token.actions.githubusercontent.com') },
        { oid: FULCIO_OID.githubWorkflowRepository, value: raw('acme/pod-image') },
        { oid: FULCIO_OID.githubWorkflowRef, value: raw('refs/tags/v1.0.0') },
      ]
    : [
        { oid: FULCIO_OID.issuer, value: utf8('https://token.actions.githubusercontent.com') },
        { oid: FULCIO_OID.sourceRepositoryUri, value: utf8('https://github.com/acme/pod-image') },
        { oid: FULCIO_OID.sourceRepositoryRef, value: utf8('refs/tags/v1.0.0') },
        { oid: FULCIO_OID.buildSignerUri, value: utf8('https://github.com/acme/pod-image/.github/workflows/release.yml@refs/tags/v1.0.0') },
        { oid: FULCIO_OID.sourceRepositoryDigest, value: utf8('0123456789abcdef0123456789abcdef01234567') },
      ];
  // SubjectAltName: GeneralNames { [6] URI } (RFC 5280 §4.2.1.6).
  const san = der.seq(tlv(0x86, enc('https://github.com/acme/pod-image/.github/workflows/release.yml@refs/tags/v1.0.0')));
  return mintCertificate({ subject: new Uint8Array([0x30, 0]), issuer: 'sigstore-intermediate', publicKey: key, signer: key, extensions: [{ oid: '2.5.29.17', critical: true, value: san }, ...exts, ...extra] });
}

describe('snp.provenance policy keys', () => {
  const parse = (provenance: unknown) => parsePolicy({ version: 1, snp: { provenance } });

  it('accepts an identity with a known predicate type and no measurementPath', () => {
    const p = parse({ issuer: POLICY.issuer, repository: 'tinfoilsh/confidential-model-router', predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1' });
    expect(p.snp?.provenance).toEqual({ issuer: POLICY.issuer, repository: 'tinfoilsh/confidential-model-router', predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1' });
  });

  it.each([
    ['no issuer', { repository: 'a/b', predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1' }, '$.snp.provenance.issuer'],
    ['no predicate type', { issuer: POLICY.issuer, repository: 'a/b' }, '$.snp.provenance.predicateType'],
    ['an issuer alone', { issuer: POLICY.issuer, predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1' }, '$.snp.provenance:'],
    ['a repository URL instead of OWNER/REPO', { ...POLICY, repository: 'https://github.com/a/b' }, '$.snp.provenance.repository'],
    ['a bad regular expression', { ...POLICY, workflowRef: 'refs/(tags' }, '$.snp.provenance.workflowRef'],
    ['an unknown predicate without measurementPath', { ...POLICY, measurementPath: undefined }, '$.snp.provenance.measurementPath'],
    ['an unknown key', { ...POLICY, trustedRoot: 'root.json' }, '$.snp.provenance.trustedRoot'],
  ])('refuses %s: ERR_POLICY_INVALID naming the field', (_n, provenance, field) => {
    const err = expectCodeSync(() => parse(provenance), ConfigError, 'ERR_POLICY_INVALID') as ConfigError;
    expect(err.fields.some((f) => f.startsWith(field))).toBe(true);
  });
});

describe('in-toto statement', () => {
  it('parses subject, predicate type and the measurements at a path', () => {
    const st = parseInTotoStatement(PT, enc(JSON.stringify(statement())));
    expect(st.subject).toEqual([{ name: 'image.raw', digest: { sha256: 'cd'.repeat(32) } }]);
    expect(predicateMeasurements(st.predicate, 'snp.measurements')).toEqual([M1, M2]);
    expect(predicateMeasurements(st.predicate, 'snp')).toBeUndefined();
    expect(predicateMeasurements(st.predicate, 'snp.missing')).toBeUndefined();
    expect(predicateMeasurements({ m: [] }, 'm')).toBeUndefined();
    expect(predicateMeasurements({ m: M1.toUpperCase() }, 'm')).toEqual([M1]);
  });

  it.each([
    ['another payload type', 'text/plain', JSON.stringify(statement())],
    ['not JSON', PT, '{"_type":'],
    ['not an object', PT, '[]'],
    ['not an in-toto Statement', PT, JSON.stringify(statement({ _type: 'https://example.org/Other' }))],
    ['no subject', PT, JSON.stringify(statement({ subject: [] }))],
    ['a subject without sha256', PT, JSON.stringify(statement({ subject: [{ name: 'x', digest: { sha512: 'ab'.repeat(64) } }] }))],
    ['a short sha256', PT, JSON.stringify(statement({ subject: [{ name: 'x', digest: { sha256: 'ab' } }] }))],
    ['no predicate type', PT, JSON.stringify(statement({ predicateType: '' }))],
    ['a predicate that is not an object', PT, JSON.stringify(statement({ predicate: 'x' }))],
    ['a duplicate member at the top', PT, `{"_type":"https://in-toto.io/Statement/v1","predicateType":"a","predicateType":"b","subject":[],"predicate":{}}`],
    ['a duplicate member in the predicate', PT, JSON.stringify(statement()).replace('"measurements":', `"measurements":["${M2}"],"measurements":`)],
  ])('refuses %s: ERR_PROVENANCE_BUNDLE_INVALID', (_n, type, text) => {
    expectCodeSync(() => parseInTotoStatement(type, enc(text)), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
  });

  it('refuses invalid UTF-8: ERR_PROVENANCE_BUNDLE_INVALID', () => {
    expectCodeSync(() => parseInTotoStatement(PT, Uint8Array.of(0x7b, 0xff, 0x7d)), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
  });

  it('random and mutated payloads only ever throw typed errors', () => {
    const valid = enc(JSON.stringify(statement()));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (rnd, off, b) => {
        const flipped = valid.slice();
        flipped[off] = b;
        for (const input of [rnd, flipped]) {
          try {
            parseInTotoStatement(PT, input);
          } catch (e) {
            expect(e).toBeInstanceOf(CcinferError);
          }
        }
      }),
    );
  });
});

describe('Fulcio signer identity', () => {
  it('reads the V2 extensions and the SAN URI', async () => {
    const id = signerIdentity(await fulcioCert());
    expect(id).toEqual({
      issuer: POLICY.issuer,
      subject: 'https://github.com/acme/pod-image/.github/workflows/release.yml@refs/tags/v1.0.0',
      repositoryUri: 'https://github.com/acme/pod-image',
      ref: 'refs/tags/v1.0.0',
      workflow: 'https://github.com/acme/pod-image/.github/workflows/release.yml@refs/tags/v1.0.0',
      commit: '0123456789abcdef0123456789abcdef01234567',
    });
    expect(checkIdentity(id, POLICY)).toContain('acme/pod-image');
  });

  it('reads the deprecated V1 extensions (raw strings)', async () => {
    const id = signerIdentity(await fulcioCert(true));
    expect(id).toMatchObject({ issuer: POLICY.issuer, repositoryUri: 'https://github.com/acme/pod-image', ref: 'refs/tags/v1.0.0', workflow: undefined });
    expect(() => checkIdentity(id, POLICY)).not.toThrow();
  });

  it('refuses a V2 extension that is not a UTF8String, and a certificate that does not parse: ERR_PROVENANCE_BUNDLE_INVALID', async () => {
    expectCodeSync(() => signerIdentity(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
    const k = await generateKey('P-256');
    const bad = await mintCertificate({ subject: 'x', issuer: 'x', publicKey: k, signer: k, extensions: [{ oid: FULCIO_OID.issuer, value: der.int(5) }] });
    expectCodeSync(() => signerIdentity(bad), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
  });

  it('matches the repository and patterns whole, never as a prefix or substring: ERR_PROVENANCE_IDENTITY_MISMATCH', async () => {
    const id = signerIdentity(await fulcioCert());
    for (const p of [
      { ...POLICY, repository: 'acme/pod' },
      { ...POLICY, repository: 'pod-image' as string },
      { ...POLICY, workflowRef: 'refs/tags/v1' },
      { ...POLICY, subjectPattern: 'https://github.com/acme/pod-image' },
      { ...POLICY, issuer: 'https://token.actions.githubusercontent.com/' },
    ]) {
      expectCodeSync(() => checkIdentity(id, p), PolicyError, 'ERR_PROVENANCE_IDENTITY_MISMATCH');
    }
    expectCodeSync(() => checkIdentity({ ...id, repositoryUri: 'not a url' }, POLICY), PolicyError, 'ERR_PROVENANCE_IDENTITY_MISMATCH');
  });
});

describe('appraiseProvenance with an injected bundle verifier', () => {
  const verified = async (st: Record<string, unknown>): Promise<VerifiedSigstoreBundle> => ({
    payloadType: PT,
    payload: enc(JSON.stringify(st)),
    certificate: await fulcioCert(),
    logIndex: '9007199254740993',
    integratedTime: new Date('2026-01-01T00:00:00Z'),
  });
  const run = async (measurement: string, st = statement()) => {
    const v = await verified(st);
    const checks = new CheckList();
    const into: Record<string, unknown> = {};
    const p = appraiseProvenance(fromHex(measurement), POLICY, { bundle: {}, verifyBundle: async () => v }, checks, into);
    return { p, checks, into };
  };

  it('accepts a measurement from a list and records the claim (log index kept exact as a string)', async () => {
    const { p, checks, into } = await run(M2);
    await p;
    expect(checks.checks.map((c) => [c.id, c.status])).toEqual([
      ['snp.provenance.bundle', 'passed'],
      ['snp.provenance.identity', 'passed'],
      ['snp.provenance.statement', 'passed'],
      ['snp.provenance.measurement', 'passed'],
    ]);
    expect(into['provenance']).toMatchObject({ repository: 'https://github.com/acme/pod-image', logIndex: '9007199254740993', integratedTime: '2026-01-01T00:00:00.000Z' });
  });

  it('refuses a measurement the list does not hold: ERR_PROVENANCE_MEASUREMENT', async () => {
    const { p } = await run('cc'.repeat(48));
    await expectCode(p, PolicyError, 'ERR_PROVENANCE_MEASUREMENT');
  });

  it('refuses another predicate type: ERR_PROVENANCE_PREDICATE', async () => {
    const { p } = await run(M1, statement({ predicateType: 'https://slsa.dev/provenance/v1' }));
    await expectCode(p, PolicyError, 'ERR_PROVENANCE_PREDICATE');
  });
});
