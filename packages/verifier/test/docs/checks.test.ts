/**
 * docs/checks.md lists every check id an appraisal records, so that an id read in a verification document
 * can be looked up. Two sources of ids: appraisals of simulated pods and tokens that take every branch that
 * records ids (the ids the code really writes, device and submodule numbers made generic), and every id
 * written as a literal in the verifier's sources (ids on failure or rare paths).
 */
import { describe, expect, it } from 'vitest';
import { encodeBundle, generateGatewayKey, randomBytes, type Check } from '@ccinfer/core';
import { generateKeyPair } from 'jose';
import { appraise, parsePolicy } from '../../src/index.js';
import { verifyTrusteeEar } from '../../src/trustee.js';
import { mintBundle, mintTrusteeEar, simulatedPodMaterial } from '../../src/testing.js';
import { codeSpans, docsPage, readRepoFile, sourceFiles } from '../../../../test-support/docs.js';

const NOW = new Date('2026-06-01T00:00:00Z');

/** `gpu3.rim.driver.ocsp` → `gpu<i>.rim.driver.ocsp`; `trustee.cpu0.status` → `trustee.<submod>.status`. */
function generic(id: string): string {
  return id
    .replace(/^gpu\d+\./, 'gpu<i>.')
    .replace(/^switch\d+\./, 'switch<j>.')
    .replace(/^trustee\.(?!signature$|profile$|submods$)[^.]+\./, 'trustee.<submod>.');
}

async function recordedIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  const onCheck = (c: Check): void => void ids.add(generic(c.id));
  const { anchors } = await simulatedPodMaterial();
  const keyConfig = (await generateGatewayKey(1)).encoded;
  const initdata = 'algorithm = "sha384"\nversion = "0.1.0"\n';
  const pods = [
    // SNP, two GPUs (feature-flag agreement), initdata, the reference-value requirement.
    { spec: { tee: 'snp' as const, gpus: 2, switches: 0, initdata }, requireReferenceValues: true },
    // PPCIe: eight GPUs and four NVSwitches.
    { spec: { tee: 'snp' as const, gpus: 8, switches: 4 }, policy: parsePolicy({ version: 1, gpu: { mode: 'ppcie' } }) },
    // TDX with initdata; the policy names every allowlist so that each rule is evaluated.
    { spec: { tee: 'tdx' as const, gpus: 1, switches: 0, initdata }, policy: parsePolicy({ version: 1, tdx: { acceptedTcbStatus: ['UpToDate'] } }) },
  ];
  for (const p of pods) {
    const nonce = randomBytes(32);
    const { bundle } = await mintBundle({ nonce, keyConfig, now: NOW, ...p.spec });
    const r = await appraise(encodeBundle(bundle), { nonce, anchors, now: NOW, onCheck, ...(p.policy ? { policy: p.policy } : {}), ...(p.requireReferenceValues ? { requireReferenceValues: true } : {}) });
    for (const c of r.document.checks) ids.add(generic(c.id));
  }
  const key = (await generateKeyPair('ES256')) as CryptoKeyPair;
  const nonce = 'q83vEjRWeJAhQ2WHCZq83vEjRWeJAhQ2WHCZq83vE0A=';
  const token = await mintTrusteeEar(key.privateKey, { nonce, iat: Math.floor(NOW.getTime() / 1000) - 10, submods: { cpu0: 'affirming', gpu0: 'affirming' } });
  const ear = await verifyTrusteeEar(token, { key: key.publicKey, expectedNonce: nonce, now: NOW, gpus: 1 });
  for (const c of ear.document.checks) ids.add(generic(c.id));
  return ids;
}

/** Ids written as a string literal where a step is recorded: `checks.run('tdx.eventLog', …)`, `step('nras.jwks', …)`. */
function literalIds(): Set<string> {
  const ids = new Set<string>();
  const files = sourceFiles('packages/verifier/src', ['.ts']).filter((f) => !f.includes('/testing'));
  for (const f of files) {
    for (const m of readRepoFile(f).matchAll(/\b(?:run|pass|skip|step)\(\s*'([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)'/g)) ids.add(m[1]!);
  }
  return ids;
}

describe('docs/checks.md', () => {
  it('lists every check id the appraisals record', async () => {
    const documented = codeSpans(docsPage('checks.md'));
    const recorded = await recordedIds();
    const literal = literalIds();
    // The scan must see the stacks (a broken regex would pass vacuously).
    for (const id of ['snp.signature', 'tdx.quote.signature', 'nras.signature', 'binding.reportData']) expect(literal).toContain(id);
    for (const id of ['gpu<i>.signature', 'switch<j>.signature', 'snp.policy.measurement', 'tdx.policy.mrTd', 'trustee.<submod>.status']) expect(recorded).toContain(id);
    const missing = [...new Set([...recorded, ...literal])].filter((id) => !documented.has(id)).sort();
    expect(missing).toEqual([]);
  }, 60_000);
});
