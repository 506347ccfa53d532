/**
 * The WebCrypto Sigstore bundle verifier (@ccinfer/verifier/sigstore) on its own: the real Tinfoil release bundle,
 * the DSSE pre-authentication encoding, the RFC 9162 audit-path check on trees built here, the strict bundle and
 * trusted-root parsers, and random damage to the real bundle (only CcinferErrors, never a crash). That it
 * refuses what the @sigstore/verify-based Node verifier refuses, with the same codes, is
 * packages/node/test/provenance-parity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcinferError, ConfigError, ParseError, VerificationError, concat, sha256, toHex, utf8 } from '@ccinfer/core';
import { SIGSTORE_TRUSTED_ROOT, SIGSTORE_TRUSTED_ROOT_SOURCE, parseSigstoreBundle, parseTrustedRoot, preAuthEncoding, webSigstoreBundleVerifier } from '../../src/sigstore.js';
import { rootFromPath } from '../../src/provenance/sigstore/rekor.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';
import { TINFOIL_BUNDLE as bundle, mutate } from '../../../../test-support/sigstore-cases.js';

const entry = (b: any) => b.verificationMaterial.tlogEntries[0];
const verify = webSigstoreBundleVerifier();

/** Every member path of a JSON value (for random damage). */
function jsonPaths(v: unknown, p: string[] = [], out: string[][] = []): string[][] {
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, c] of Object.entries(v)) {
    out.push([...p, k]);
    jsonPaths(c, [...p, k], out);
  }
  return out;
}

/** Sets (or, for undefined, deletes) the member at `path`. */
const setAt = (path: string[], value: unknown) => (x: any): void => {
  let o = x;
  for (const k of path.slice(0, -1)) o = o[k];
  if (value === undefined) delete o[path[path.length - 1]!];
  else o[path[path.length - 1]!] = value;
};

describe('webSigstoreBundleVerifier on the Tinfoil release bundle', () => {
  it('verifies it offline against the shipped trusted root and returns the signed statement', async () => {
    const v = await verify(bundle);
    expect(v.logIndex).toBe('845420855');
    expect(v.integratedTime.toISOString()).toBe('2026-01-22T22:42:02.000Z');
    expect(v.payloadType).toBe('application/vnd.in-toto+json');
    const st = JSON.parse(new TextDecoder().decode(v.payload));
    expect(st.predicateType).toBe('https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1');
    expect(toHex(await sha256(v.certificate))).toBe(toHex(await sha256(parseSigstoreBundle(bundle).certificate)));
    expect(SIGSTORE_TRUSTED_ROOT_SOURCE).toMatch(/^@sigstore\/tuf@\d+\.\d+\.\d+ seeds\.json trusted_root\.json$/);
  });

  it('refuses an inclusion proof whose root hash is not the signed checkpoint’s (stricter than @sigstore/verify)', async () => {
    const b = mutate((x) => {
      const h = Uint8Array.from(atob(entry(x).inclusionProof.rootHash), (c) => c.charCodeAt(0));
      h[0]! ^= 1;
      entry(x).inclusionProof.rootHash = btoa(String.fromCharCode(...h));
    });
    await expectCode(verify(b), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
    const size = mutate((x) => {
      entry(x).inclusionProof.treeSize = String(Number(entry(x).inclusionProof.treeSize) + 1);
    });
    await expectCode(verify(size), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });

  it('refuses an entry whose kind or version is not the body’s, and entry kinds it does not read', async () => {
    await expectCode(verify(mutate((x) => { entry(x).kindVersion.version = '0.0.2'; })), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
    await expectCode(verify(mutate((x) => { entry(x).kindVersion.kind = 'intoto'; })), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });

  it('refuses a bundle without an inclusion proof (the checkpoint is required, not only the SET)', async () => {
    await expectCode(verify(mutate((x) => { delete entry(x).inclusionProof; })), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });

  it('refuses a checkpoint with anything after its signature lines', async () => {
    await expectCode(verify(mutate((x) => { entry(x).inclusionProof.checkpoint.envelope += 'extra'; })), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
    await expectCode(verify(mutate((x) => { entry(x).inclusionProof.checkpoint.envelope += 'not a signature line\n'; })), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });

  it('random damage to the bundle JSON is refused with a CcinferError, never a crash', async () => {
    const paths = jsonPaths(bundle);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: paths.length - 1 }), fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })), async (i, value) => {
        const b = mutate(setAt(paths[i]!, value));
        try {
          await verify(b);
        } catch (err) {
          expect(err).toBeInstanceOf(CcinferError);
          expect((err as CcinferError).code).toMatch(/^ERR_PROVENANCE_/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('random damage to the trusted root', () => {
  it('is refused with ERR_PROVENANCE_TRUSTED_ROOT_INVALID, or verifies the bundle, or refuses it with a CcinferError', async () => {
    const paths = jsonPaths(SIGSTORE_TRUSTED_ROOT);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: paths.length - 1 }), fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })), async (i, value) => {
        const root = mutate(setAt(paths[i]!, value), SIGSTORE_TRUSTED_ROOT);
        try {
          await webSigstoreBundleVerifier({ trustedRoot: root })(bundle);
        } catch (err) {
          expect(err).toBeInstanceOf(CcinferError);
          expect((err as CcinferError).code).toMatch(/^ERR_PROVENANCE_/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('DSSE pre-authentication encoding', () => {
  it('is DSSEv1 SP len(type) SP type SP len(body) SP body, lengths in bytes (DSSE protocol.md example)', () => {
    expect(new TextDecoder().decode(preAuthEncoding('http://example.com/HelloWorld', utf8('hello world')))).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    expect(preAuthEncoding('t', utf8('é')).length).toBe('DSSEv1 1 t 2 '.length + 2);
  });
});

describe('RFC 9162 audit path', () => {
  const leafHash = (i: number) => sha256(concat(Uint8Array.of(0), utf8(`leaf ${i}`)));
  const node = (l: Uint8Array, r: Uint8Array) => sha256(concat(Uint8Array.of(1), l, r));
  // MTH and PATH as RFC 9162 §2.1.1 and §2.1.3.1 define them, over leaf hashes.
  const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
  const mth = async (d: Uint8Array[]): Promise<Uint8Array> => (d.length === 1 ? d[0]! : node(await mth(d.slice(0, split(d.length))), await mth(d.slice(split(d.length)))));
  const path = async (m: number, d: Uint8Array[]): Promise<Uint8Array[]> => {
    if (d.length === 1) return [];
    const k = split(d.length);
    return m < k ? [...(await path(m, d.slice(0, k))), await mth(d.slice(k))] : [...(await path(m - k, d.slice(k))), await mth(d.slice(0, k))];
  };

  it('every leaf of trees of 1 to 13 leaves leads to the tree head; any other index, size or path does not', async () => {
    for (let n = 1; n <= 13; n++) {
      const leaves = await Promise.all(Array.from({ length: n }, (_, i) => leafHash(i)));
      const root = await mth(leaves);
      for (let m = 0; m < n; m++) {
        const p = await path(m, leaves);
        expect(toHex(await rootFromPath(BigInt(m), BigInt(n), leaves[m]!, p))).toBe(toHex(root));
        if (n > 1) {
          const other = await rootFromPath(BigInt((m + 1) % n), BigInt(n), leaves[m]!, p).catch((e: unknown) => e);
          if (other instanceof Uint8Array) expect(toHex(other)).not.toBe(toHex(root));
          else expect((other as CcinferError).code).toBe('ERR_PROVENANCE_TLOG_INVALID');
        }
      }
    }
  });

  it('refuses an index outside the tree and a path of the wrong length: ERR_PROVENANCE_TLOG_INVALID', async () => {
    const h = await leafHash(0);
    await expectCode(rootFromPath(3n, 3n, h, [h, h]), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
    await expectCode(rootFromPath(0n, 4n, h, [h]), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
    await expectCode(rootFromPath(0n, 2n, h, [h, h]), VerificationError, 'ERR_PROVENANCE_TLOG_INVALID');
  });
});

describe('strict parsing', () => {
  it.each([
    ['an RFC 3161 timestamp (a time source this verifier does not check)', (x: any) => { x.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: 'AAAA' }] }; }],
    ['two DSSE signatures', (x: any) => { x.dsseEnvelope.signatures.push(x.dsseEnvelope.signatures[0]); }],
    ['no DSSE signature', (x: any) => { x.dsseEnvelope.signatures = []; }],
    ['no transparency log entry', (x: any) => { x.verificationMaterial.tlogEntries = []; }],
    ['a log index with a leading zero', (x: any) => { entry(x).logIndex = '0845420855'; }],
    ['a negative integrated time', (x: any) => { entry(x).integratedTime = '-1'; }],
    ['an audit-path hash that is not 32 bytes', (x: any) => { entry(x).inclusionProof.hashes[0] = 'AAAA'; }],
    ['a payload that is not base64', (x: any) => { x.dsseEnvelope.payload = 'not base64!'; }],
    ['a certificate that does not parse', (x: any) => { x.verificationMaterial.certificate.rawBytes = 'MAA='; }],
  ])('refuses %s: ERR_PROVENANCE_BUNDLE_INVALID', async (_name, f) => {
    await expectCode(verify(mutate(f)), ParseError, 'ERR_PROVENANCE_BUNDLE_INVALID');
  });

  it('reads a v0.1/v0.2 bundle with the certificate in x509CertificateChain', async () => {
    const b = mutate((x) => {
      x.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
      x.verificationMaterial.x509CertificateChain = { certificates: [x.verificationMaterial.certificate] };
      delete x.verificationMaterial.certificate;
    });
    expect((await verify(b)).logIndex).toBe('845420855');
  });

  it.each([
    ['another media type', (r: any) => { r.mediaType = 'application/json'; }],
    ['a CA certificate that does not parse', (r: any) => { r.certificateAuthorities[0].certChain.certificates[0].rawBytes = 'MAA='; }],
    ['a log key that is not base64', (r: any) => { r.tlogs[0].publicKey.rawBytes = '%%%'; }],
    ['a validity window that is not a time', (r: any) => { r.tlogs[0].publicKey.validFor.start = 'yesterday'; }],
    ['no Fulcio CA', (r: any) => { r.certificateAuthorities = []; }],
  ])('refuses a trusted root with %s: ERR_PROVENANCE_TRUSTED_ROOT_INVALID', (_name, f) => {
    expectCodeSync(() => parseTrustedRoot(mutate(f, SIGSTORE_TRUSTED_ROOT)), ConfigError, 'ERR_PROVENANCE_TRUSTED_ROOT_INVALID');
  });
});
