/**
 * SEV-SNP appraisal of a real Genoa report (the Tinfoil vector, test-vectors/snp/tinfoil-genoa-v3-bundle):
 * cold (no chain or key cached), warm (chain cached), the crypto floor (the same four signature checks and
 * three key imports with bare WebCrypto), and the peer @tinfoilsh/verifier `verifyAttestation` on the same
 * report in its own bundle format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { concat, subtle } from '@ccinfer/core';
import { reverse } from '@ccinfer/core/internal';
import { verifySnp, ChainCache, parseCertificate, parseCertificates } from '@ccinfer/verifier';
import { clearKeyCache } from '@ccinfer/verifier/internal';
import type { BenchCase } from '../types.js';

const VECTORS = process.env['CCINFER_VECTORS'] ?? join(import.meta.dirname, '../../test-vectors');

export async function cases(): Promise<BenchCase[]> {
  const dir = join(VECTORS, 'snp/tinfoil-genoa-v3-bundle');
  const report = new Uint8Array(readFileSync(join(dir, 'report.bin')));
  const leaf = new Uint8Array(readFileSync(join(dir, 'vcek.der')));
  const chainPem = readFileSync(join(dir, 'cert_chain.pem'), 'utf8');
  const now = new Date('2026-11-28T00:00:00Z');
  const policy = { revocation: 'allow-unavailable' as const };
  const evidence = { report, leaf, chain: chainPem };

  const check = async (): Promise<void> => {
    const doc = await verifySnp(evidence, { now, policy });
    if (!doc.ok) throw new Error(`snp bench vector rejected: ${JSON.stringify(doc.errors)}`);
  };
  await check();

  const warmCache = new ChainCache();
  await verifySnp(evidence, { now, policy, chainCache: warmCache });

  // The floor: what any verifier must do with WebCrypto for this evidence.
  const vcek = parseCertificate(leaf);
  const [ask, ark] = parseCertificates(chainPem) as [ReturnType<typeof parseCertificate>, ReturnType<typeof parseCertificate>];
  const r = report;
  const sig = concat(reverse(r.subarray(0x2a0, 0x2a0 + 48)), reverse(r.subarray(0x2e8, 0x2e8 + 48)));
  const pss = { name: 'RSA-PSS', hash: 'SHA-384' };
  const u = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
  const floor = async (): Promise<void> => {
    const [kLeaf, kAsk, kArk] = await Promise.all([
      subtle().importKey('spki', u(vcek.spki), { name: 'ECDSA', namedCurve: 'P-384' }, false, ['verify']),
      subtle().importKey('spki', u(ask.spki), pss, false, ['verify']),
      subtle().importKey('spki', u(ark.spki), pss, false, ['verify']),
    ]);
    const ok = await Promise.all([
      subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, kLeaf, u(sig), u(r.subarray(0, 0x2a0))),
      subtle().verify({ name: 'RSA-PSS', saltLength: 48 }, kAsk, u(vcek.signature), u(vcek.tbs)),
      subtle().verify({ name: 'RSA-PSS', saltLength: 48 }, kArk, u(ask.signature), u(ask.tbs)),
      subtle().verify({ name: 'RSA-PSS', saltLength: 48 }, kArk, u(ark.signature), u(ark.tbs)),
    ]);
    if (!ok.every(Boolean)) throw new Error('floor verification failed');
  };
  await floor();

  const out: BenchCase[] = [
    { name: 'snp.floor', title: 'bare WebCrypto: 3 key imports + ECDSA P-384 + 3 RSA-PSS-4096 verifies', fn: floor },
    {
      name: 'snp.cold',
      title: 'verifySnp: parse + chain + signature + policy, nothing cached',
      fn: async () => {
        clearKeyCache();
        await check();
      },
      budgetMs: 2,
      compareTo: ['snp.floor', 'peer.tinfoil.verifyAttestation'],
    },
    {
      name: 'snp.warm',
      title: 'verifySnp with the chain cached (validity still checked)',
      fn: () => verifySnp(evidence, { now, policy, chainCache: warmCache }),
      compareTo: ['snp.cold'],
    },
  ];

  try {
    const bundle = JSON.parse(readFileSync(join(VECTORS, 'peers/tinfoil-attestation-bundle.json'), 'utf8'));
    const { verifyAttestation } = (await import('@tinfoilsh/verifier')) as unknown as { verifyAttestation: (d: unknown, v: string) => Promise<unknown> };
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async () => {
      throw new Error('network disabled in the bench');
    }) as typeof fetch;
    try {
      await verifyAttestation(bundle.enclaveAttestationReport, bundle.vcek);
    } finally {
      globalThis.fetch = realFetch;
    }
    out.unshift({
      name: 'peer.tinfoil.verifyAttestation',
      title: '@tinfoilsh/verifier 1.1.0 verifyAttestation (SNP report + VCEK→ASK→ARK), same report',
      fn: () => verifyAttestation(bundle.enclaveAttestationReport, bundle.vcek),
    });
  } catch (err) {
    console.error(`peer.tinfoil.verifyAttestation skipped: ${(err as Error).message}`);
  }
  return out;
}
