/**
 * A protocol-level appraiser for gateway/client tests: decode, nonce echo and the ccinfer/1 binding of the
 * SNP REPORT_DATA (offset 0x50, SEV-SNP ABI Table 22). It does not verify signatures or chains — that is the
 * verifier's job, tested there; here it only has to refuse evidence that is not about this session.
 */
import { CheckList, VerificationError, ccinferV1Binding, decodeBundle, equalBytes, verifyBinding, type AttestedDocument } from '@ccinfer/core';

export async function fakeAppraise(bundleBytes: Uint8Array, nonce: Uint8Array): Promise<AttestedDocument> {
  const checks = new CheckList();
  try {
    const bundle = await checks.run('bundle.decode', () => decodeBundle(bundleBytes));
    await checks.run('nonce.echo', () => {
      if (!equalBytes(bundle.nonce, nonce)) throw new VerificationError('ERR_SESSION_BINDING_MISMATCH', 'nonce not echoed');
    });
    if (bundle.cpu.tee !== 'snp') throw new VerificationError('ERR_BUNDLE_TEE_UNKNOWN', 'snp only');
    const reportData = bundle.cpu.report.subarray(0x50, 0x90);
    await checks.run('binding.reportData', () => verifyBinding(ccinferV1Binding, bundle, reportData));
    return { ...checks.document('bundle', new Date(), { gpus: bundle.gpus.length }), keyConfig: bundle.keyConfig };
  } catch {
    return { ...checks.document('bundle', new Date(), {}), keyConfig: new Uint8Array(0) };
  }
}
