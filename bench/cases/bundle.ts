/**
 * Full bundle appraisal (docs/design-notes.md "Budgets": SNP + 8 GPUs + 4 NVSwitches ≤ 20 ms cold, ≤ 2 ms with cached chains):
 * `appraise()` on a simulated PPCIe pod — the same kinds of signatures as real hardware (RSA-PSS for the AMD
 * chain, ECDSA P-384 for the report and every device) — cold (fresh caches) and warm (chains cached).
 * The budgeted cases exclude RIMs and OCSP (a pod that carries none, appraised with them switched off, as the
 * budget was set); `bundle.ppcie.strict.*` appraise the same system carrying its RIMs (3 distinct) and OCSP
 * responses (16) under the strict default GPU policy.
 */
import { concat, generateGatewayKey, randomBytes, subtle, toHex } from '@ccinfer/core';
import { reverse } from '@ccinfer/core/internal';
import { appraise, parsePolicy, parseCertificates, parseNvidiaReport, ChainCache, type Certificate } from '@ccinfer/verifier';
import { clearKeyCache, ecdsaDerToP1363 } from '@ccinfer/verifier/internal';
import { mintBundle } from '@ccinfer/verifier/testing';
import type { BenchCase } from '../types.js';

export async function cases(): Promise<BenchCase[]> {
  const nonce = randomBytes(32);
  const keyConfig = (await generateGatewayKey(1)).encoded;
  const { bundle, anchors } = await mintBundle({ nonce, keyConfig, gpus: 8, switches: 4, nvidiaCollateral: false });
  const policy = parsePolicy({ version: 1, gpu: { requireRim: false, ocsp: 'skip', mode: 'ppcie' } });
  const strict = await mintBundle({ nonce, keyConfig, gpus: 8, switches: 4 });
  const strictPolicy = parsePolicy({ version: 1, gpu: { mode: 'ppcie' } });
  const now = new Date();
  const appraiseOk = async (b: typeof bundle, p: typeof policy, chainCache?: ChainCache): Promise<void> => {
    const r = await appraise(b, { nonce, anchors, policy: p, now, ...(chainCache ? { chainCache } : {}) });
    if (!r.document.ok) throw new Error(`bench bundle rejected: ${JSON.stringify(r.document.errors)}`);
  };
  const run = (chainCache?: ChainCache): Promise<void> => appraiseOk(bundle, policy, chainCache);
  await run();
  const warm = new ChainCache();
  await run(warm);
  await appraiseOk(strict.bundle, strictPolicy);
  const strictWarm = new ChainCache();
  await appraiseOk(strict.bundle, strictPolicy, strictWarm);

  // The floor: every distinct signature of this bundle verified once with bare WebCrypto, all in parallel
  // (keys imported once per distinct key): what any verifier of this evidence has to pay.
  const u = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
  const snp = bundle.cpu as Extract<typeof bundle.cpu, { tee: 'snp' }>;
  const snpCerts = [...parseCertificates(snp.leaf), ...snp.chain!.flatMap((d) => parseCertificates(d))];
  const devices = [...bundle.gpus, ...bundle.switches].map((d) => ({ certs: parseCertificates(d.certChain), report: parseNvidiaReport(d.report) }));
  const pairs = new Map<string, [Certificate, Certificate]>();
  for (const chain of [snpCerts, ...devices.map((d) => d.certs)]) {
    chain.forEach((c, i) => pairs.set(toHex(c.signature), [c, chain[i + 1] ?? c]));
  }
  const ec = { name: 'ECDSA', namedCurve: 'P-384' };
  const pss = { name: 'RSA-PSS', hash: 'SHA-384' };
  const reportSig = concat(reverse(snp.report.subarray(0x2a0, 0x2a0 + 48)), reverse(snp.report.subarray(0x2e8, 0x2e8 + 48)));
  const floor = async (): Promise<void> => {
    const keys = new Map<string, Promise<CryptoKey>>();
    const key = (c: Certificate, rsa: boolean): Promise<CryptoKey> => {
      const k = toHex(c.spki);
      if (!keys.has(k)) keys.set(k, subtle().importKey('spki', u(c.spki), rsa ? pss : ec, false, ['verify']));
      return keys.get(k)!;
    };
    const ok = await Promise.all([
      key(snpCerts[0]!, false).then((k) => subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, k, u(reportSig), u(snp.report.subarray(0, 0x2a0)))),
      ...devices.map((d) => key(d.certs[0]!, false).then((k) => subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, k, u(d.report.signature), u(d.report.signedBytes)))),
      ...[...pairs.values()].map(([c, issuer]) => {
        const rsa = c.signatureAlgorithm.oid === '1.2.840.113549.1.1.10';
        return key(issuer, rsa).then((k) =>
          rsa ? subtle().verify({ name: 'RSA-PSS', saltLength: 48 }, k, u(c.signature), u(c.tbs)) : subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, k, u(ecdsaDerToP1363(c.signature, 48)), u(c.tbs)),
        );
      }),
    ]);
    if (!ok.every(Boolean)) throw new Error('floor verification failed');
  };
  await floor();
  const reportsOnly = async (): Promise<void> => {
    const ok = await Promise.all([
      subtle().importKey('spki', u(snpCerts[0]!.spki), ec, false, ['verify']).then((k) => subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, k, u(reportSig), u(snp.report.subarray(0, 0x2a0)))),
      ...devices.map((d) => subtle().importKey('spki', u(d.certs[0]!.spki), ec, false, ['verify']).then((k) => subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, k, u(d.report.signature), u(d.report.signedBytes)))),
    ]);
    if (!ok.every(Boolean)) throw new Error('floor verification failed');
  };
  return [
    { name: 'bundle.ppcie.floor', title: `bare WebCrypto: the ${pairs.size + devices.length + 1} distinct signatures of the bundle, in parallel`, fn: floor },
    { name: 'bundle.ppcie.warmFloor', title: 'bare WebCrypto: only the 13 fresh report signatures (what no chain cache can save)', fn: reportsOnly },
    {
      name: 'bundle.ppcie.cold',
      title: 'appraise(): SNP + 8 GPUs + 4 NVSwitches + binding + topology, nothing cached',
      fn: async () => {
        clearKeyCache();
        await run();
      },
      budgetMs: 20,
      compareTo: ['bundle.ppcie.floor'],
    },
    { name: 'bundle.ppcie.warm', title: 'the same with certificate chains cached (validity still checked)', fn: () => run(warm), budgetMs: 2, compareTo: ['bundle.ppcie.warmFloor', 'bundle.ppcie.cold'] },
    {
      name: 'bundle.ppcie.strict.cold',
      title: 'appraise(), strict GPU defaults: + the carried RIMs (parsed, XML-DSig, golden values) and OCSP responses, nothing cached',
      fn: async () => {
        clearKeyCache();
        await appraiseOk(strict.bundle, strictPolicy);
      },
      compareTo: ['bundle.ppcie.cold'],
    },
    {
      name: 'bundle.ppcie.strict.warm',
      title: 'the same with the ChainCache kept: chains, verified RIMs and OCSP responses remembered (validity, identity, golden values, OCSP times still checked)',
      fn: () => appraiseOk(strict.bundle, strictPolicy, strictWarm),
      compareTo: ['bundle.ppcie.warm'],
    },
  ];
}
