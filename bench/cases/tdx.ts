/**
 * Intel TDX appraisal of a real quote with its Intel PCS collateral (test-vectors/tdx/s2-b0c06f-2025-06,
 * quote_dcapqvl_uptodate.bin — UpToDate for both ccinfer and the peer): cold (no key or chain cached), warm
 * (chains cached), the crypto floor (the same key imports, ECDSA P-256 verifies and SHA-256 with bare
 * WebCrypto), and the peer @phala/dcap-qvl 0.3.9 `verify` on the same quote and collateral.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { concat, sha256, subtle } from '@ccinfer/core';
import {
  ChainCache,
  parseCertificates,
  parseCrl,
  parseQeIdentityResponse,
  parseTcbInfoResponse,
  parseTdxQuote,
  verifyTdx,
  type TdxCollateral,
} from '@ccinfer/verifier';
import { clearKeyCache, ecdsaDerToP1363 } from '@ccinfer/verifier/internal';
import type { BenchCase } from '../types.js';

const VECTORS = process.env['CCINFER_VECTORS'] ?? join(import.meta.dirname, '../../test-vectors');

export async function cases(): Promise<BenchCase[]> {
  const dir = join(VECTORS, 'tdx/s2-b0c06f-2025-06');
  const read = (f: string): Uint8Array => new Uint8Array(readFileSync(join(dir, f)));
  const quote = read('quote_dcapqvl_uptodate.bin');
  const collateral: TdxCollateral = {
    tcbInfo: read('tcb_info.json'),
    tcbInfoIssuerChain: read('tcb_info_issuer_chain.pem'),
    qeIdentity: read('qe_identity.json'),
    qeIdentityIssuerChain: read('qe_identity_issuer_chain.pem'),
    pckCrl: read('pck_crl.der'),
    rootCaCrl: read('root_ca_crl.der'),
  };
  const now = new Date('2025-07-01T00:00:00Z');

  const check = async (chainCache?: ChainCache): Promise<void> => {
    const doc = await verifyTdx(quote, { now, collateral, ...(chainCache ? { chainCache } : {}) });
    if (!doc.ok) throw new Error(`tdx bench vector rejected: ${JSON.stringify(doc.errors)}`);
  };
  await check();
  const warmCache = new ChainCache();
  await check(warmCache);

  // The floor: the key imports, signature checks and digest any verifier of this quote must perform.
  const q = parseTdxQuote(quote);
  const pem = new TextDecoder().decode(q.pckChain).replace(/\0+$/, '');
  const [leaf, ca, root] = parseCertificates(pem) as [ReturnType<typeof parseCertificates>[number], ReturnType<typeof parseCertificates>[number], ReturnType<typeof parseCertificates>[number]];
  const [signer] = parseCertificates(collateral.tcbInfoIssuerChain);
  const tcb = parseTcbInfoResponse(collateral.tcbInfo);
  const qe = parseQeIdentityResponse(collateral.qeIdentity);
  const pckCrl = parseCrl(collateral.pckCrl);
  const rootCrl = parseCrl(collateral.rootCaCrl);
  const u = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;
  const ec = { name: 'ECDSA', namedCurve: 'P-256' };
  const alg = { name: 'ECDSA', hash: 'SHA-256' };
  const x = (sig: Uint8Array): Uint8Array => ecdsaDerToP1363(sig, 32);
  const certSigs = [x(leaf.signature), x(ca.signature), x(root.signature), x(signer!.signature), x(pckCrl.signature), x(rootCrl.signature)];
  const floor = async (): Promise<void> => {
    const [kAtt, kLeaf, kCa, kRoot, kSigner] = await Promise.all([
      subtle().importKey('raw', u(concat(Uint8Array.of(4), q.attestationKey)), ec, false, ['verify']),
      subtle().importKey('spki', u(leaf.spki), ec, false, ['verify']),
      subtle().importKey('spki', u(ca.spki), ec, false, ['verify']),
      subtle().importKey('spki', u(root.spki), ec, false, ['verify']),
      subtle().importKey('spki', u(signer!.spki), ec, false, ['verify']),
    ]);
    const ok = await Promise.all([
      subtle().verify(alg, kAtt, u(q.signature), u(q.signedRegion)),
      subtle().verify(alg, kLeaf, u(q.qeReportSignature), u(q.qeReport.raw)),
      subtle().verify(alg, kCa, u(certSigs[0]!), u(leaf.tbs)),
      subtle().verify(alg, kRoot, u(certSigs[1]!), u(ca.tbs)),
      subtle().verify(alg, kRoot, u(certSigs[2]!), u(root.tbs)),
      subtle().verify(alg, kRoot, u(certSigs[3]!), u(signer!.tbs)),
      subtle().verify(alg, kSigner, u(tcb.signature), u(tcb.signedBytes)),
      subtle().verify(alg, kSigner, u(qe.signature), u(qe.signedBytes)),
      subtle().verify(alg, kCa, u(certSigs[4]!), u(pckCrl.tbs)),
      subtle().verify(alg, kRoot, u(certSigs[5]!), u(rootCrl.tbs)),
      sha256(concat(q.attestationKey, q.qeAuthData)).then(() => true),
    ]);
    if (!ok.every(Boolean)) throw new Error('floor verification failed');
  };
  await floor();

  const out: BenchCase[] = [
    { name: 'tdx.floor', title: 'bare WebCrypto: 5 P-256 key imports + 10 ECDSA P-256 verifies + SHA-256', fn: floor },
    {
      name: 'tdx.cold',
      title: 'verifyTdx: quote + PCK chain + CRLs + TCB Info + QE Identity + TCB level + policy, nothing cached',
      fn: async () => {
        clearKeyCache();
        await check();
      },
      budgetMs: 3,
      compareTo: ['tdx.floor', 'peer.dcapqvl.verify'],
    },
    {
      name: 'tdx.warm',
      title: 'verifyTdx with the chains cached (validity, CRLs and collateral still checked)',
      fn: () => check(warmCache),
      compareTo: ['tdx.cold', 'peer.dcapqvl.verify'],
    },
  ];

  try {
    const { verify } = (await import('@phala/dcap-qvl')) as unknown as { verify: (q: Uint8Array, c: unknown, nowSecs: number) => { status: string } };
    const peerCollateral = JSON.parse(readFileSync(join(dir, 'collateral.dcap-qvl.json'), 'utf8'));
    const nowSecs = now.getTime() / 1000;
    const r = verify(quote, peerCollateral, nowSecs);
    if (r.status !== 'UpToDate') throw new Error(`dcap-qvl says ${r.status}`);
    out.unshift({
      name: 'peer.dcapqvl.verify',
      title: '@phala/dcap-qvl 0.3.9 verify (same quote and collateral)',
      fn: () => verify(quote, peerCollateral, nowSecs),
    });
  } catch (err) {
    console.error(`peer.dcapqvl.verify skipped: ${(err as Error).message}`);
  }
  return out;
}
