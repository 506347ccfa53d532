/**
 * Signed provenance (Sigstore) on real data: the Tinfoil release bundle (peers/tinfoil-attestation-bundle.json:
 * a Sigstore DSSE bundle of tinfoilsh/confidential-model-router v0.0.38 and the matching Genoa SEV-SNP report),
 * verified offline against the trusted root shipped in @ccinfer/node. Every ERR_PROVENANCE_… code is refused
 * from a real bundle with one thing changed.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError, PolicyError, VerificationError } from '@ccinfer/core';
import { parsePolicy, verifySnp, type ProvenancePolicy, type SigstoreBundleVerifier } from '@ccinfer/verifier';
import { SIGSTORE_TRUSTED_ROOT, SIGSTORE_TRUSTED_ROOT_SOURCE, sigstoreBundleVerifier } from '../src/provenance.js';
import { expectCode } from '../../../test-support/helpers.js';
import { TINFOIL_RELEASE } from '../../../test-support/sigstore-cases.js';
import { readBytes, readJson, readText, vectorsDir } from '../../../test-support/vectors.js';
import { cli } from './cli/io.js';
import { encodeBundle, generateGatewayKey, randomBytes, fromHex } from '@ccinfer/core';
import { mintBundle } from '@ccinfer/verifier/testing';
import { bundleAppraiser } from '../src/client.js';

const peers = vectorsDir('peers');
const snp = vectorsDir('snp');
const now = new Date('2026-06-01T00:00:00Z');

const RELEASE: ProvenancePolicy = TINFOIL_RELEASE;

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const toB64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');

describe('signed provenance on the Tinfoil release bundle', () => {
  const vector = readJson(peers, 'tinfoil-attestation-bundle.json');
  const bundle = vector.sigstoreBundle;
  const evidence = (set = 'tinfoil-genoa-v3-bundle') => ({
    report: readBytes(snp, set, 'report.bin'),
    leaf: readBytes(snp, set, 'vcek.der'),
    chain: readText(snp, set, 'cert_chain.pem'),
  });
  const verifyBundle = sigstoreBundleVerifier();
  const run = (opts: { policy?: Record<string, unknown>; bundle?: unknown; verifier?: SigstoreBundleVerifier; subjectDigest?: string; set?: string; noInput?: boolean } = {}) => {
    const policy = parsePolicy({ version: 1, snp: { revocation: 'allow-unavailable', provenance: { ...RELEASE, ...opts.policy } } });
    return verifySnp(evidence(opts.set), {
      now,
      policy: policy.snp,
      ...(opts.noInput ? {} : { provenance: { bundle: opts.bundle ?? bundle, verifyBundle: opts.verifier ?? verifyBundle, subjectDigest: opts.subjectDigest } }),
    });
  };
  const codes = (doc: { errors: { code: string }[] }) => doc.errors.map((e) => e.code);
  const mutate = (f: (b: any) => void): unknown => {
    const b = structuredClone(bundle);
    f(b);
    return b;
  };

  it('accepts the report: the measurement is in the statement signed by the named release, with provenance claims', async () => {
    const doc = await run({ subjectDigest: vector.digest });
    expect(codes(doc)).toEqual([]);
    expect(doc.ok).toBe(true);
    const ids = doc.checks.filter((c) => c.status === 'passed').map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['snp.signature', 'snp.provenance.bundle', 'snp.provenance.identity', 'snp.provenance.statement', 'snp.provenance.measurement']));
    expect(doc.checks.find((c) => c.id === 'snp.policy.measurement')?.status).toBe('skipped');
    expect(doc.claims['provenance']).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'https://github.com/tinfoilsh/confidential-model-router/.github/workflows/build.yml@refs/tags/v0.0.38',
      repository: 'https://github.com/tinfoilsh/confidential-model-router',
      workflow: 'https://github.com/tinfoilsh/confidential-model-router/.github/workflows/build.yml@refs/tags/v0.0.38',
      ref: 'refs/tags/v0.0.38',
      commit: '7a4ca87d5481e1b37c1caa8b49c1771f0b8694a7',
      logIndex: '845420855',
      integratedTime: '2026-01-22T22:42:02.000Z',
      predicateType: RELEASE.predicateType,
      subjects: [{ name: 'tinfoil-deployment.json', sha256: vector.digest }],
    });
    expect(doc.claims['measurement']).toBe('09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519');
  });

  it('a subject pattern naming the workflow file also accepts it', async () => {
    const doc = await run({ policy: { repository: undefined, subjectPattern: 'https://github\\.com/tinfoilsh/confidential-model-router/\\.github/workflows/build\\.yml@refs/tags/v[0-9.]+' } });
    expect(codes(doc)).toEqual([]);
  });

  it.each([
    ['another repository', { repository: 'tinfoilsh/confidential-model-router2' }],
    ['another owner', { repository: 'evil/confidential-model-router' }],
    ['another issuer', { issuer: 'https://accounts.google.com' }],
    ['a branch instead of a tag', { workflowRef: 'refs/heads/main' }],
    ['another workflow file', { subjectPattern: 'https://github\\.com/tinfoilsh/confidential-model-router/\\.github/workflows/release\\.yml@.*' }],
  ])('a different identity (%s) is refused: ERR_PROVENANCE_IDENTITY_MISMATCH', async (_name, policy) => {
    const doc = await run({ policy });
    expect(doc.ok).toBe(false);
    expect(codes(doc)).toEqual(['ERR_PROVENANCE_IDENTITY_MISMATCH']);
    expect(doc.checks.find((c) => c.id === 'snp.provenance.identity')?.status).toBe('failed');
  });

  it('a measurement not in the statement (another Tinfoil report, same chip) is refused: ERR_PROVENANCE_MEASUREMENT', async () => {
    const doc = await run({ set: 'tinfoil-genoa-v3-gotest' });
    expect(codes(doc)).toEqual(['ERR_PROVENANCE_MEASUREMENT']);
  });

  it('a tampered statement (another measurement in the payload) is refused by the log entry: ERR_PROVENANCE_TLOG_INVALID', async () => {
    const other = '2dedaee13b84dc618efc73f685b16de46826380a2dd45df15da3dd8badbc9822cadf7bfc7595912c4517ba6fab1b52c0';
    const b = mutate((x) => {
      const st = JSON.parse(Buffer.from(x.dsseEnvelope.payload, 'base64').toString('utf8'));
      st.predicate.snp_measurement = other;
      x.dsseEnvelope.payload = toB64(JSON.stringify(st));
    });
    const doc = await run({ bundle: b, set: 'tinfoil-genoa-v3-gotest' });
    expect(codes(doc)).toEqual(['ERR_PROVENANCE_TLOG_INVALID']);
    await expectCode(verifyBundle(b), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });

  it('a tampered inclusion proof or signed entry timestamp is refused: ERR_PROVENANCE_TLOG_INVALID', async () => {
    const proof = mutate((x) => {
      const h = b64(x.verificationMaterial.tlogEntries[0].inclusionProof.hashes[3]);
      h[0]! ^= 1;
      x.verificationMaterial.tlogEntries[0].inclusionProof.hashes[3] = toB64(h);
    });
    await expectCode(verifyBundle(proof), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
    const set = mutate((x) => {
      x.verificationMaterial.tlogEntries[0].integratedTime = String(Number(x.verificationMaterial.tlogEntries[0].integratedTime) + 1);
    });
    await expectCode(verifyBundle(set), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });

  it('a changed DSSE payloadType (not covered by the log entry, covered by the signature) is refused: ERR_PROVENANCE_SIGNATURE_INVALID', async () => {
    const b = mutate((x) => {
      x.dsseEnvelope.payloadType = 'application/vnd.in-toto+json;v=1';
    });
    await expectCode(verifyBundle(b), VerificationError, 'ERR_PROVENANCE_SIGNATURE_INVALID');
    expect(codes(await run({ bundle: b }))).toEqual(['ERR_PROVENANCE_SIGNATURE_INVALID']);
  });

  it('a trusted root without the Fulcio CA that issued the certificate refuses the chain: ERR_PROVENANCE_CERTIFICATE_INVALID', async () => {
    const root = structuredClone(SIGSTORE_TRUSTED_ROOT) as any;
    root.certificateAuthorities = root.certificateAuthorities.filter((ca: any) => ca.validFor.end !== undefined);
    expect(root.certificateAuthorities.length).toBeGreaterThan(0);
    await expectCode(sigstoreBundleVerifier({ trustedRoot: root })(bundle), VerificationError, 'ERR_PROVENANCE_CERTIFICATE_INVALID');
    const noCt = structuredClone(SIGSTORE_TRUSTED_ROOT) as any;
    noCt.ctlogs = [];
    await expectCode(sigstoreBundleVerifier({ trustedRoot: noCt })(bundle), VerificationError, 'ERR_PROVENANCE_CERTIFICATE_INVALID');
  });

  it('a statement of another predicate type, or without a measurement at the path, is refused: ERR_PROVENANCE_PREDICATE', async () => {
    expect(codes(await run({ policy: { predicateType: 'https://slsa.dev/provenance/v1', measurementPath: 'snp_measurement' } }))).toEqual(['ERR_PROVENANCE_PREDICATE']);
    // `hashes.kernel` is a 32-byte digest, not a 48-byte launch measurement.
    expect(codes(await run({ policy: { measurementPath: 'hashes.kernel' } }))).toEqual(['ERR_PROVENANCE_PREDICATE']);
    expect(codes(await run({ policy: { measurementPath: 'tdx_measurement.rtmr1' } }))).toEqual(['ERR_PROVENANCE_MEASUREMENT']);
  });

  it('a subject digest the statement does not list is refused: ERR_PROVENANCE_SUBJECT_MISMATCH', async () => {
    expect(codes(await run({ subjectDigest: '00'.repeat(32) }))).toEqual(['ERR_PROVENANCE_SUBJECT_MISMATCH']);
  });

  it('a policy naming a release but no bundle is refused: ERR_PROVENANCE_MISSING', async () => {
    const doc = await run({ noInput: true });
    expect(codes(doc)).toEqual(['ERR_PROVENANCE_MISSING']);
    expect(doc.checks.find((c) => c.id === 'snp.provenance.bundle')?.code).toBe('ERR_PROVENANCE_MISSING');
  });

  it('what is not a Fulcio-signed DSSE bundle is refused: ERR_PROVENANCE_BUNDLE_INVALID', async () => {
    await expectCode(verifyBundle({ mediaType: 'nonsense' }), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
    await expectCode(verifyBundle(null), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
    const noDsse = mutate((x) => {
      delete x.dsseEnvelope;
      x.messageSignature = { messageDigest: { algorithm: 'SHA2_256', digest: toB64(new Uint8Array(32)) }, signature: x.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp };
    });
    await expectCode(verifyBundle(noDsse), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
    const keyOnly = mutate((x) => {
      delete x.verificationMaterial.certificate;
      x.verificationMaterial.publicKey = { hint: 'key' };
    });
    await expectCode(verifyBundle(keyOnly), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
    // A verifier that fails with a foreign error is reported as an invalid bundle, never ERR_INTERNAL.
    const doc = await run({ verifier: async () => { throw new TypeError('boom'); } });
    expect(codes(doc)).toEqual(['ERR_PROVENANCE_BUNDLE_INVALID']);
  });

  it('a trusted root that is not a TrustedRoot document is refused at once: ERR_PROVENANCE_TRUSTED_ROOT_INVALID', async () => {
    await expectCode(() => sigstoreBundleVerifier({ trustedRoot: {} }), ConfigError, 'ERR_PROVENANCE_TRUSTED_ROOT_INVALID');
    await expectCode(() => sigstoreBundleVerifier({ trustedRoot: 'x' }), ConfigError, 'ERR_PROVENANCE_TRUSTED_ROOT_INVALID');
  });

  describe('the client appraiser (createSecureClient): a pod pinned by its release, with no first contact', () => {
    const appraiseWith = async (measurementHex: string | undefined, provenance: boolean) => {
      const nonce = randomBytes(32);
      const keyConfig = (await generateGatewayKey(1)).encoded;
      const { bundle: pod, anchors } = await mintBundle({ nonce, keyConfig, now, ...(measurementHex ? { report: { measurement: fromHex(measurementHex) } } : {}) });
      // The release identity pins the measurement; HOST_DATA (zero: this pod has no initdata) is the second pin a client needs.
      // The simulated pod has no GPU: accepted by a client only because the policy says so (gpu.count.min 0).
      const policy = parsePolicy({ version: 1, snp: { provenance: RELEASE, hostData: ['00'.repeat(32)] }, gpu: { count: { min: 0 } } });
      const appraiser = bundleAppraiser({ policy, anchors, fetcher: undefined, clock: { now: () => now }, ...(provenance ? { provenance: { bundle } } : {}) });
      return appraiser(encodeBundle(pod), nonce);
    };

    it('accepts a (simulated) pod showing the signed measurement, the release identity counting as the pin', async () => {
      const doc = await appraiseWith('09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519', true);
      expect(doc.errors).toEqual([]);
      expect(doc.ok).toBe(true);
      expect(doc.keyConfig.length).toBeGreaterThan(0);
      expect((doc.claims['cpu'] as any).provenance.logIndex).toBe('845420855');
      expect(doc.checks.find((c) => c.id === 'policy.referenceValues')?.status).toBe('passed');
    });

    it('refuses a pod whose measurement the release did not sign, and refuses without the bundle', async () => {
      const other = await appraiseWith(undefined, true);
      expect(codes(other)).toEqual(['ERR_PROVENANCE_MEASUREMENT']);
      expect(other.keyConfig.length).toBe(0);
      expect(codes(await appraiseWith(undefined, false))).toEqual(['ERR_PROVENANCE_MISSING']);
    });
  });

  describe('ccinfer verify snp --provenance', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ccinfer-prov-'));
    const policyFile = join(tmp, 'policy.json');
    const bundleFile = join(tmp, 'release.sigstore.json');
    const d = snp ? join(snp, 'tinfoil-genoa-v3-bundle') : '';
    const args = ['verify', 'snp', '--report', join(d, 'report.bin'), '--cert', join(d, 'vcek.der'), '--chain', join(d, 'cert_chain.pem'), '--at', now.toISOString(), '--offline', '--no-cache', '--policy', policyFile];
    writeFileSync(policyFile, JSON.stringify({ version: 1, snp: { revocation: 'allow-unavailable', provenance: RELEASE } }));
    if (bundle) writeFileSync(bundleFile, JSON.stringify(bundle));

    it('exits 0 and prints the provenance claims', async () => {
      const r = await cli([...args, '--provenance', bundleFile, '--json']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).claims.provenance).toMatchObject({ repository: 'https://github.com/tinfoilsh/confidential-model-router', logIndex: '845420855' });
    });

    it('exits 1 without the bundle, 2 for --trusted-root alone or an unreadable root', async () => {
      const r = await cli([...args, '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out).errors.map((e: any) => e.code)).toEqual(['ERR_PROVENANCE_MISSING']);
      expect((await cli([...args, '--trusted-root', bundleFile])).code).toBe(2);
      const bad = join(tmp, 'bad-root.json');
      writeFileSync(bad, '{}');
      expect((await cli([...args, '--provenance', bundleFile, '--trusted-root', bad])).code).toBe(2);
    });
  });
});

describe('the shipped Sigstore trusted root', () => {
  it('is byte-for-byte the trusted_root.json embedded in @sigstore/tuf (its recorded source)', () => {
    const require = createRequire(import.meta.url);
    const tuf = require('@sigstore/tuf/package.json') as { version: string };
    const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
    const embedded = JSON.parse(Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev']!.targets['trusted_root.json']!, 'base64').toString('utf8'));
    expect(SIGSTORE_TRUSTED_ROOT).toEqual(embedded);
    expect(SIGSTORE_TRUSTED_ROOT_SOURCE).toBe(`@sigstore/tuf@${tuf.version} seeds.json trusted_root.json`);
  });
});

// PolicyError is the class of every ERR_PROVENANCE_ policy refusal; checked directly once on the identity.
it('identity refusals are PolicyErrors with the field', async () => {
  const { checkIdentity } = await import('@ccinfer/verifier');
  const err = await expectCode(
    () => checkIdentity({ issuer: 'https://accounts.google.com', subject: undefined, repositoryUri: undefined, ref: undefined, workflow: undefined, commit: undefined }, RELEASE),
    PolicyError,
    'ERR_PROVENANCE_IDENTITY_MISMATCH',
  );
  expect((err as PolicyError).field).toBe('provenance.issuer');
});
