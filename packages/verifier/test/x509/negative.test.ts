/** Every ERR_X509_* code, produced with minted certificates and CRLs (`@ccinfer/verifier/testing`). */
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError, VerificationError, concat, sha256, toHex } from '@ccinfer/core';
import { der, tlv } from '@ccinfer/core/internal';
import { ecdsaDerToP1363, parseCertificate, parseCertificates, parseCrl, verifyChain, verifyCrl, verifySignature, type TrustAnchor } from '../../src/x509/index.js';
import { OID } from '../../src/x509/oids.js';
import { extension, generateKey, mintCertificate, mintCrl, name, toPem, type KeyPair } from '../../src/testing.js';
import { expectCode, expectCodeSync, flip } from '../../../../test-support/helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');
let rootKey: KeyPair;
let midKey: KeyPair;
let leafKey: KeyPair;
let root: Uint8Array;
let mid: Uint8Array;
let leaf: Uint8Array;
let anchor: TrustAnchor;

beforeAll(async () => {
  [rootKey, midKey, leafKey] = await Promise.all([generateKey('P-384'), generateKey('P-384'), generateKey('P-256')]);
  root = await mintCertificate({ subject: 'Root', issuer: 'Root', publicKey: rootKey, signer: rootKey, ca: { pathLen: 1 } });
  mid = await mintCertificate({ subject: 'Mid', issuer: 'Root', publicKey: midKey, signer: rootKey, ca: { pathLen: 0 } });
  leaf = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: leafKey, signer: midKey });
  anchor = { name: 'Root', spkiSha256: toHex(await sha256(rootKey.spki)) };
});

const chain = (...ders: Uint8Array[]) => ders.map(parseCertificate);
const opts = () => ({ anchors: [anchor], now: NOW });

describe('X.509 chain errors', () => {
  it('a well-formed chain verifies', async () => {
    expect((await verifyChain(chain(leaf, mid, root), opts())).anchor).toEqual(anchor);
  });

  it('ERR_X509_CHAIN_EMPTY and ERR_X509_CHAIN_LENGTH', async () => {
    await expectCode(verifyChain([], opts()), VerificationError, 'ERR_X509_CHAIN_EMPTY');
    await expectCode(verifyChain(chain(leaf, mid, root), { ...opts(), length: 4 }), VerificationError, 'ERR_X509_CHAIN_LENGTH');
  });

  it('ERR_X509_ISSUER_MISMATCH: names do not link', async () => {
    const stray = await mintCertificate({ subject: 'Leaf', issuer: 'Other', publicKey: leafKey, signer: midKey });
    await expectCode(verifyChain(chain(stray, mid, root), opts()), VerificationError, 'ERR_X509_ISSUER_MISMATCH');
  });

  it('ERR_X509_NOT_CA: an issuer without basicConstraints cA', async () => {
    const notCa = await mintCertificate({ subject: 'Mid', issuer: 'Root', publicKey: midKey, signer: rootKey });
    await expectCode(verifyChain(chain(leaf, notCa, root), opts()), VerificationError, 'ERR_X509_NOT_CA');
  });

  it('ERR_X509_PATH_LENGTH: more intermediates than pathLenConstraint allows', async () => {
    const deep = await mintCertificate({ subject: 'Deep', issuer: 'Leaf', publicKey: leafKey, signer: leafKey });
    const leafAsCa = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: leafKey, signer: midKey, ca: true });
    await expectCode(verifyChain(chain(deep, leafAsCa, mid, root), opts()), VerificationError, 'ERR_X509_PATH_LENGTH');
  });

  it('ERR_X509_CRITICAL_EXTENSION: an unknown critical extension', async () => {
    const odd = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: leafKey, signer: midKey, extensions: [{ oid: '1.2.3.4.5', critical: true, value: der.null() }] });
    await expectCode(verifyChain(chain(odd, mid, root), opts()), VerificationError, 'ERR_X509_CRITICAL_EXTENSION');
    await expect(verifyChain(chain(odd, mid, root), { ...opts(), knownExtensions: ['1.2.3.4.5'] })).resolves.toBeTruthy();
  });

  it('ERR_X509_SIGNATURE_INVALID: signed by another key', async () => {
    const forged = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: leafKey, signer: leafKey });
    await expectCode(verifyChain(chain(forged, mid, root), opts()), VerificationError, 'ERR_X509_SIGNATURE_INVALID');
  });

  it('ERR_X509_UNSUPPORTED_ALGORITHM: an algorithm outside the profiles', async () => {
    const tbsAlg = der.seq(der.oid('1.2.840.113549.1.1.5')); // sha1WithRSAEncryption
    const cert = parseCertificate(leaf);
    const bogus = der.seq(cert.tbs, tbsAlg, der.bits(cert.signature));
    // signatureAlgorithm must equal tbsCertificate.signature, so this one is malformed before it is unsupported.
    expectCodeSync(() => parseCertificate(bogus), ParseError, 'ERR_X509_MALFORMED');
    const sha1Tbs = der.seq(der.ctx(0, der.int(2)), der.int(9), tbsAlg, name('Mid'), der.seq(der.time(new Date('2024-01-01Z')), der.time(new Date('2049-01-01Z'))), name('Leaf'), leafKey.spki);
    const sha1Cert = der.seq(sha1Tbs, tbsAlg, der.bits(new Uint8Array(64)));
    await expectCode(verifyChain(chain(sha1Cert, mid, root), opts()), VerificationError, 'ERR_X509_UNSUPPORTED_ALGORITHM');
  });
});

describe('X.509 parse errors', () => {
  it('ERR_X509_MALFORMED: not a certificate, trailing fields, duplicate extensions, explicit critical FALSE', () => {
    expectCodeSync(() => parseCertificate(der.seq(der.int(1))), ParseError, 'ERR_X509_MALFORMED');
    const dup = der.seq(extension({ oid: OID.keyUsage, value: der.bits(Uint8Array.of(0x80), 7) }), extension({ oid: OID.keyUsage, value: der.bits(Uint8Array.of(0x80), 7) }));
    const cert = parseCertificate(leaf);
    const tbsDup = der.seq(der.ctx(0, der.int(2)), der.int(9), cert.signatureAlgorithm.raw, name('Mid'), der.seq(der.time(new Date('2024-01-01Z')), der.time(new Date('2049-01-01Z'))), name('Leaf'), leafKey.spki, der.ctx(3, dup));
    expectCodeSync(() => parseCertificate(der.seq(tbsDup, cert.signatureAlgorithm.raw, der.bits(new Uint8Array(8)))), ParseError, 'ERR_X509_MALFORMED');
    const explicitFalse = der.seq(der.oid(OID.keyUsage), der.bool(false), der.octets(der.bits(Uint8Array.of(0x80), 7)));
    const tbsFalse = der.seq(der.ctx(0, der.int(2)), der.int(9), cert.signatureAlgorithm.raw, name('Mid'), der.seq(der.time(new Date('2024-01-01Z')), der.time(new Date('2049-01-01Z'))), name('Leaf'), leafKey.spki, der.ctx(3, der.seq(explicitFalse)));
    expectCodeSync(() => parseCertificate(der.seq(tbsFalse, cert.signatureAlgorithm.raw, der.bits(new Uint8Array(8)))), ParseError, 'ERR_X509_MALFORMED');
    expectCodeSync(() => parseCertificates(new Uint8Array([0x30, 0x82, 0x10])), ParseError, 'ERR_X509_MALFORMED');
  });

  it('ERR_X509_PEM_INVALID: no certificate in the text, or bad base64', () => {
    expectCodeSync(() => parseCertificates('hello'), ParseError, 'ERR_X509_PEM_INVALID');
    expectCodeSync(() => parseCertificates('-----BEGIN CERTIFICATE-----\n*@!\n-----END CERTIFICATE-----\n'), ParseError, 'ERR_X509_PEM_INVALID');
    expect(parseCertificates(toPem([leaf, mid]))).toHaveLength(2);
  });
});

describe('CRL errors', () => {
  it('ERR_X509_CRL_MALFORMED, ERR_X509_CRL_ISSUER_MISMATCH', async () => {
    expectCodeSync(() => parseCrl(der.seq(der.int(1))), ParseError, 'ERR_X509_CRL_MALFORMED');
    const crl = parseCrl(await mintCrl({ issuer: 'Mid', signer: midKey, thisUpdate: new Date('2026-01-01Z'), nextUpdate: new Date('2027-01-01Z') }));
    await verifyCrl(crl, parseCertificate(mid), NOW);
    await expectCode(verifyCrl(crl, parseCertificate(root), NOW), VerificationError, 'ERR_X509_CRL_ISSUER_MISMATCH');
  });
});

describe('extension wrappers hold exactly one SEQUENCE (issue 10 finding 4)', () => {
  const ku = extension({ oid: OID.keyUsage, critical: true, value: der.bits(Uint8Array.of(0x80), 7) });
  const hidden = extension({ oid: '1.2.3.4.5', critical: true, value: der.null() });

  it('certificate [3]: a second SEQUENCE carrying an unknown critical extension is malformed, not ignored', async () => {
    const base = { subject: 'Leaf', issuer: 'Mid', publicKey: leafKey, signer: midKey };
    const good = await mintCertificate({ ...base, extensionsWrapper: [der.seq(ku)] });
    expect(parseCertificate(good).extensions.map((e) => e.oid)).toEqual([OID.keyUsage]);
    const twoSeqs = await mintCertificate({ ...base, extensionsWrapper: [der.seq(ku), der.seq(hidden)] });
    expectCodeSync(() => parseCertificate(twoSeqs), ParseError, 'ERR_X509_MALFORMED');
    await expect(async () => verifyChain([parseCertificate(twoSeqs), ...chain(mid, root)], opts())).rejects.toBeInstanceOf(ParseError);
    for (const inner of [[], [der.seq()], [der.seq(ku), der.null()], [der.set(ku)], [der.octets(der.seq(ku))]]) {
      expectCodeSync(() => parseCertificate(mintSync(inner)), ParseError, 'ERR_X509_MALFORMED');
    }
  });

  it('certificate version [0]: exactly one INTEGER', () => {
    const cert = parseCertificate(leaf);
    const tbs = der.seq(der.ctx(0, concat(der.int(2), der.int(2))), der.int(9), cert.signatureAlgorithm.raw, name('Mid'), der.seq(der.time(new Date('2024-01-01Z')), der.time(new Date('2049-01-01Z'))), name('Leaf'), leafKey.spki);
    expectCodeSync(() => parseCertificate(der.seq(tbs, cert.signatureAlgorithm.raw, der.bits(new Uint8Array(8)))), ParseError, 'ERR_X509_MALFORMED');
  });

  it('CRL crlExtensions [0]: exactly one SEQUENCE; a hidden critical extension is malformed', async () => {
    const at = { issuer: 'Mid', signer: midKey, thisUpdate: new Date('2026-01-01Z'), nextUpdate: new Date('2027-01-01Z') };
    const crlNumber = extension({ oid: OID.crlNumber, value: der.int(7) });
    expect(parseCrl(await mintCrl({ ...at, extensionsWrapper: [der.seq(crlNumber)] })).issuer.cn).toBe('Mid');
    for (const inner of [[der.seq(crlNumber), der.seq(hidden)], [], [der.seq()], [der.seq(crlNumber), der.null()]]) {
      expectCodeSync(() => parseCrl(mintCrlSync(inner)), ParseError, 'ERR_X509_CRL_MALFORMED');
    }
    await expect(mintCrl({ ...at, extensionsWrapper: [der.seq(crlNumber), der.seq(hidden)] }).then(parseCrl)).rejects.toBeInstanceOf(ParseError);
  });

  it('CRL entries: at most one crlEntryExtensions SEQUENCE, no extra fields, no unknown critical entry extension', async () => {
    const at = { issuer: 'Mid', signer: midKey, thisUpdate: new Date('2026-01-01Z'), nextUpdate: new Date('2027-01-01Z') };
    const reason = extension({ oid: OID.crlReason, value: der.enumerated(1) });
    const ok = parseCrl(await mintCrl({ ...at, revoked: [{ serial: 5, entryFields: [der.seq(reason)] }] }));
    expect(ok.revoked[0]!.reason).toBe(1);
    for (const entryFields of [[der.seq(reason), der.seq(hidden)], [der.seq(reason), der.null()], [der.seq(hidden)], [der.seq()]]) {
      const crl = await mintCrl({ ...at, revoked: [{ serial: 5, entryFields }] });
      expectCodeSync(() => parseCrl(crl), ParseError, 'ERR_X509_CRL_MALFORMED');
    }
  });
});

/** A certificate TBS with `inner` inside the [3] wrapper, unsigned (parse tests only). */
function mintSync(inner: Uint8Array[]): Uint8Array {
  const cert = parseCertificate(leaf);
  const tbs = der.seq(der.ctx(0, der.int(2)), der.int(9), cert.signatureAlgorithm.raw, name('Mid'), der.seq(der.time(new Date('2024-01-01Z')), der.time(new Date('2049-01-01Z'))), name('Leaf'), leafKey.spki, der.ctx(3, concat(...inner)));
  return der.seq(tbs, cert.signatureAlgorithm.raw, der.bits(new Uint8Array(8)));
}

/** A CRL with `inner` inside the crlExtensions [0] wrapper, unsigned (parse tests only). */
function mintCrlSync(inner: Uint8Array[]): Uint8Array {
  const alg = parseCertificate(leaf).signatureAlgorithm.raw;
  const tbs = der.seq(der.int(1), alg, name('Mid'), der.time(new Date('2026-01-01Z')), der.time(new Date('2027-01-01Z')), der.ctx(0, concat(...inner)));
  return der.seq(tbs, alg, der.bits(new Uint8Array(8)));
}

describe('a key that WebCrypto refuses to import (issue 10 finding 11)', () => {
  /** The SubjectPublicKeyInfo with the last bit of y flipped: a point that is not on the curve. */
  const offCurve = (spki: Uint8Array): Uint8Array => flip(spki, spki.length - 1);

  it('ERR_X509_KEY_INVALID: an issuer whose key is not a point on its curve, in a chain and for a CRL', async () => {
    const badMid = await mintCertificate({ subject: 'Mid', issuer: 'Root', publicKey: offCurve(midKey.spki), signer: rootKey, ca: { pathLen: 0 } });
    expect(parseCertificate(badMid).spki).toEqual(offCurve(midKey.spki));
    await expectCode(verifyChain(chain(leaf, badMid, root), opts()), VerificationError, 'ERR_X509_KEY_INVALID');
    const crl = parseCrl(await mintCrl({ issuer: 'Mid', signer: midKey, thisUpdate: new Date('2026-01-01Z'), nextUpdate: new Date('2027-01-01Z') }));
    await expectCode(verifyCrl(crl, parseCertificate(badMid), NOW), VerificationError, 'ERR_X509_KEY_INVALID');
    // The same chain with the genuine key still verifies (the cache did not keep the failure).
    expect((await verifyChain(chain(leaf, mid, root), opts())).anchor).toEqual(anchor);
  });

  it('ERR_X509_KEY_INVALID: a P-256 point that is not on the curve, and a truncated point', async () => {
    const p256 = offCurve(leafKey.spki);
    const deep = await mintCertificate({ subject: 'Deep', issuer: 'Leaf', publicKey: leafKey, signer: leafKey });
    const badLeaf = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: p256, signer: midKey, ca: true });
    await expectCode(verifySignatureOf(deep, badLeaf), VerificationError, 'ERR_X509_KEY_INVALID');
    // A point one byte short: the BIT STRING parses, the key does not.
    const short = der.seq(der.seq(der.oid(OID.ecPublicKey), der.oid(OID.p256)), der.bits(leafKey.spki.subarray(leafKey.spki.length - 65, leafKey.spki.length - 1)));
    const shortLeaf = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: short, signer: midKey, ca: true });
    await expectCode(verifySignatureOf(deep, shortLeaf), VerificationError, 'ERR_X509_KEY_INVALID');
  });
});

async function verifySignatureOf(cert: Uint8Array, issuer: Uint8Array): Promise<boolean> {
  const c = parseCertificate(cert);
  return verifySignature(c.signatureAlgorithm, parseCertificate(issuer).spki, c.tbs, c.signature);
}

describe('DER, PEM, time and signature inputs the review suggested', () => {
  /** The leaf re-assembled with another signatureValue (and the same TBS and algorithm). */
  const withSignature = (sigBits: Uint8Array): Uint8Array => {
    const c = parseCertificate(leaf);
    return der.seq(c.tbs, c.signatureAlgorithm.raw, sigBits);
  };
  /** A certificate whose validity holds exactly these two encoded times (unsigned: parse tests only). */
  const withValidity = (notBefore: Uint8Array, notAfter: Uint8Array): Uint8Array => {
    const c = parseCertificate(leaf);
    const tbs = der.seq(der.ctx(0, der.int(2)), der.int(9), c.signatureAlgorithm.raw, name('Mid'), der.seq(notBefore, notAfter), name('Leaf'), leafKey.spki);
    return der.seq(tbs, c.signatureAlgorithm.raw, der.bits(new Uint8Array(8)));
  };
  const utc = (s: string): Uint8Array => tlv(0x17, new TextEncoder().encode(s));
  const gen = (s: string): Uint8Array => tlv(0x18, new TextEncoder().encode(s));

  it('DER: indefinite and non-minimal lengths, trailing bytes, a BIT STRING signature with unused bits', () => {
    const body = leaf.subarray(4); // leaf is 30 82 LL LL ...
    expectCodeSync(() => parseCertificate(Uint8Array.of(0x30, 0x80, ...body, 0, 0)), ParseError, 'ERR_DER_MALFORMED');
    expectCodeSync(() => parseCertificate(Uint8Array.of(0x30, 0x83, 0x00, leaf[2]!, leaf[3]!, ...body)), ParseError, 'ERR_DER_MALFORMED');
    expectCodeSync(() => parseCertificate(concat(leaf, Uint8Array.of(0))), ParseError, 'ERR_DER_MALFORMED');
    const sig = parseCertificate(leaf).signature;
    expectCodeSync(() => parseCertificate(withSignature(tlv(0x03, concat(Uint8Array.of(1), sig)))), ParseError, 'ERR_DER_MALFORMED');
  });

  it('PEM: an unterminated block or a mismatched END label is refused, not dropped', () => {
    const two = toPem([leaf, mid]);
    expect(parseCertificates(`explanatory text\n${two}trailing text\n`)).toHaveLength(2);
    expectCodeSync(() => parseCertificates(`${two}-----BEGIN CERTIFICATE-----\nMIIB\n`), ParseError, 'ERR_X509_PEM_INVALID');
    const mislabelled = toPem(leaf).replace('-----END CERTIFICATE-----', '-----END X509 CRL-----');
    expectCodeSync(() => parseCertificates(`${toPem(mid)}${mislabelled}`), ParseError, 'ERR_X509_PEM_INVALID');
    expectCodeSync(() => parseCertificates(`${toPem(mid)}-----END CERTIFICATE-----\n`), ParseError, 'ERR_X509_PEM_INVALID');
    // A block whose base64 decodes but is not a certificate.
    expectCodeSync(() => parseCertificates(toPem(der.seq(der.int(1)))), ParseError, 'ERR_X509_MALFORMED');
  });

  it('time: only DER UTCTime / GeneralizedTime with seconds and Z, real calendar dates', () => {
    const later = gen('20490101000000Z');
    expect(parseCertificate(withValidity(utc('500101000000Z'), later)).notBefore.toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(parseCertificate(withValidity(utc('491231235959Z'), later)).notBefore.toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(parseCertificate(withValidity(utc('240229000000Z'), later)).notBefore.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    for (const bad of [utc('2401010000Z'), utc('240101000000+0100'), utc('240101000000'), gen('20240101000000.5Z'), utc('230229000000Z'), gen('21000229000000Z'), utc('241301000000Z'), utc('240101240000Z'), utc('240101000060Z'), tlv(0x04, new TextEncoder().encode('240101000000Z'))]) {
      expectCodeSync(() => parseCertificate(withValidity(bad, later)), ParseError, 'ERR_DER_MALFORMED');
    }
  });

  it('time: a validity window that ends before it starts is never valid', async () => {
    const inverted = await mintCertificate({ subject: 'Leaf', issuer: 'Mid', publicKey: leafKey, signer: midKey, notBefore: new Date('2027-01-01Z'), notAfter: new Date('2025-01-01Z') });
    await expect(verifyChain(chain(inverted, mid, root), opts())).rejects.toBeInstanceOf(VerificationError);
    await expectCode(verifyChain(chain(inverted, mid, root), { ...opts(), now: new Date('2026-01-01Z') }), VerificationError, 'ERR_X509_NOT_YET_VALID');
  });

  it('signatures: zero, oversized, non-minimal and padded ECDSA values all fail as ERR_X509_SIGNATURE_INVALID', async () => {
    const c = parseCertificate(leaf);
    const [r, sv] = (() => {
      const p1363 = ecdsaDerToP1363(c.signature, 48);
      return [p1363.subarray(0, 48), p1363.subarray(48)];
    })();
    const int = (b: Uint8Array): Uint8Array => tlv(0x02, b);
    const variants = [
      der.seq(int(Uint8Array.of(0)), int(Uint8Array.of(0))),
      der.seq(int(concat(Uint8Array.of(0), new Uint8Array(49).fill(0x7f))), int(Uint8Array.of(1))),
      der.seq(int(concat(Uint8Array.of(0, 0), r)), int(concat(Uint8Array.of(0), sv))),
      concat(der.seq(int(concat(Uint8Array.of(0), r)), int(concat(Uint8Array.of(0), sv))), Uint8Array.of(0)),
      der.seq(int(concat(Uint8Array.of(0), r)), int(concat(Uint8Array.of(0), sv)), int(Uint8Array.of(1))),
      concat(r, sv), // raw r || s where DER is required
      new Uint8Array(0),
    ];
    for (const v of variants) {
      await expectCode(verifyChain(chain(withSignature(der.bits(v)), mid, root), opts()), VerificationError, 'ERR_X509_SIGNATURE_INVALID');
    }
  });

  it('signatures: an ECDSA algorithm with an RSA issuer key is unsupported, not attempted', async () => {
    const rsa = await generateKey('RSA-PSS');
    const rsaMid = await mintCertificate({ subject: 'Mid', issuer: 'Root', publicKey: rsa, signer: rootKey, ca: { pathLen: 0 } });
    await expectCode(verifyChain(chain(leaf, rsaMid, root), opts()), VerificationError, 'ERR_X509_UNSUPPORTED_ALGORITHM');
  });
});
