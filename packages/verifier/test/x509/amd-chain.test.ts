import { describe, expect, it } from 'vitest';
import { VerificationError } from '@ccinfer/core';
import { parseCertificate, parseCertificates, verifyChain, spkiSha256, ChainCache } from '../../src/x509/index.js';
import { vectorsDir, readBytes, readText } from '../../../../test-support/vectors.js';
import { expectCode } from '../../../../test-support/helpers.js';

const snp = vectorsDir('snp');
const AT = new Date('2025-01-01T00:00:00Z');

describe('X.509 on real AMD certificates', () => {
  const milanPin = { name: 'ARK-Milan', spkiSha256: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9' };

  it('parses the ARK and ASK and pins the ARK by SPKI SHA-256', async () => {
    const [ask, ark] = parseCertificates(readText(snp, 'roots/milan/cert_chain_vcek.pem'));
    expect(ask!.subject.cn).toBe('SEV-Milan');
    expect(ark!.subject.cn).toBe('ARK-Milan');
    expect(ark!.basicConstraints?.ca).toBe(true);
    expect(await spkiSha256(ark!)).toBe(milanPin.spkiSha256);
  });

  it('verifies VCEK → ASK → ARK (RSA-PSS with explicit trailerField) and caches it', async () => {
    const leaf = parseCertificate(readBytes(snp, 'virtee-milan-v2/vcek.der'));
    const chain = [leaf, ...parseCertificates(readText(snp, 'virtee-milan-v2/cert_chain.pem'))];
    const cache = new ChainCache();
    const r = await verifyChain(chain, { anchors: [milanPin], now: AT, cache });
    expect(r.anchor.name).toBe('ARK-Milan');
    expect((await verifyChain(chain, { anchors: [milanPin], now: AT, cache })).anchor).toBe(r.anchor);
  });

  it('verifies a Turin VCEK without PSS trailerField', async () => {
    const leaf = parseCertificate(readBytes(snp, 'oak-turin-v5/vcek.der'));
    const chain = [leaf, ...parseCertificates(readText(snp, 'oak-turin-v5/cert_chain.pem'))];
    const pin = { name: 'ARK-Turin', spkiSha256: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08' };
    await expect(verifyChain(chain, { anchors: [pin], now: new Date('2026-01-01Z') })).resolves.toBeTruthy();
  });

  it('rejects an unpinned root, an expired leaf and a tampered leaf', async () => {
    const leaf = parseCertificate(readBytes(snp, 'virtee-milan-v2/vcek.der'));
    const rest = parseCertificates(readText(snp, 'virtee-milan-v2/cert_chain.pem'));
    await expectCode(verifyChain([leaf, ...rest], { anchors: [{ name: 'x', spkiSha256: '00'.repeat(32) }], now: AT }), VerificationError, 'ERR_X509_UNTRUSTED_ROOT');
    await expectCode(verifyChain([leaf, ...rest], { anchors: [milanPin], now: new Date('2031-01-01Z') }), VerificationError, 'ERR_X509_EXPIRED');
    const bad = parseCertificate(readBytes(snp, 'trustee-milan-v2-provisional/NEGATIVE_vcek-invalid-new.der'));
    await expectCode(verifyChain([bad, ...rest], { anchors: [milanPin], now: AT }), VerificationError, 'ERR_X509_SIGNATURE_INVALID');
  });
});

describe('CRL distribution points of the real AMD intermediates', () => {
  it('ASKs point to /vcek/v1/<P>/crl and ASVKs to /vlek/v1/<P>/crl, as crlUrl builds them', async () => {
    const { crlDistributionPointUris } = await import('../../src/x509/index.js');
    const { crlUrl } = await import('../../src/snp/collateral.js');
    for (const [dir, product] of [['milan', 'Milan'], ['genoa', 'Genoa'], ['turin', 'Turin']] as const) {
      expect(crlDistributionPointUris(parseCertificates(readText(snp, `roots/${dir}/cert_chain_vcek.pem`))[0]!)).toEqual([crlUrl(product, 'vcek')]);
      expect(crlDistributionPointUris(parseCertificates(readText(snp, `roots/${dir}/cert_chain_vlek.pem`))[0]!)).toEqual([crlUrl(product, 'vlek')]);
    }
  });
});
