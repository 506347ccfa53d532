/**
 * Signed provenance on the real Tinfoil release (test-vectors/peers/tinfoil-attestation-bundle.json): the
 * Sigstore bundle check alone (@sigstore/verify through `sigstoreBundleVerifier`: Fulcio chain + SCT, Rekor
 * inclusion proof + checkpoint + SET, DSSE signature; and the same checks on WebCrypto, `webSigstoreBundleVerifier`,
 * what pages use), and `verifySnp` of the matching Genoa report with an
 * `snp.provenance` policy (the SNP checks plus the bundle, identity, statement and measurement steps).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy, verifySnp } from '@ccinfer/verifier';
import { webSigstoreBundleVerifier } from '@ccinfer/verifier/sigstore';
import { sigstoreBundleVerifier } from '@ccinfer/node';
import type { BenchCase } from '../types.js';

const VECTORS = process.env['CCINFER_VECTORS'] ?? join(import.meta.dirname, '../../test-vectors');

export async function cases(): Promise<BenchCase[]> {
  const bundle = JSON.parse(readFileSync(join(VECTORS, 'peers/tinfoil-attestation-bundle.json'), 'utf8')).sigstoreBundle;
  const dir = join(VECTORS, 'snp/tinfoil-genoa-v3-bundle');
  const evidence = { report: new Uint8Array(readFileSync(join(dir, 'report.bin'))), leaf: new Uint8Array(readFileSync(join(dir, 'vcek.der'))), chain: readFileSync(join(dir, 'cert_chain.pem'), 'utf8') };
  const policy = parsePolicy({
    version: 1,
    snp: {
      revocation: 'allow-unavailable',
      provenance: { issuer: 'https://token.actions.githubusercontent.com', repository: 'tinfoilsh/confidential-model-router', workflowRef: 'refs/tags/v.*', predicateType: 'https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1' },
    },
  });
  const verifyBundle = sigstoreBundleVerifier();
  const verifyWeb = webSigstoreBundleVerifier();
  const now = new Date('2026-11-28T00:00:00Z');
  const full = async (): Promise<void> => {
    const doc = await verifySnp(evidence, { now, policy: policy.snp, provenance: { bundle, verifyBundle } });
    if (!doc.ok) throw new Error(`provenance bench vector rejected: ${JSON.stringify(doc.errors)}`);
  };
  await full();
  return [
    { name: 'provenance.bundle', title: 'Sigstore bundle: Fulcio chain + SCT, Rekor proof + checkpoint + SET, DSSE signature', fn: () => verifyBundle(bundle) },
    { name: 'provenance.bundle.web', title: 'the same Sigstore bundle checks on WebCrypto (webSigstoreBundleVerifier, browser-safe)', fn: () => verifyWeb(bundle), compareTo: ['provenance.bundle'] },
    { name: 'provenance.snp', title: 'verifySnp with snp.provenance (SNP checks + signed-provenance steps)', fn: full, compareTo: ['snp.cold'] },
  ];
}
