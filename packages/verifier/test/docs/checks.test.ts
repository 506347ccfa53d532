/**
 * docs/checks.md lists every check id an appraisal records, so that an id read in a verification document
 * can be looked up. Two sources of ids: appraisals of simulated pods and tokens that take every branch that
 * records ids (the ids the code really writes, device and submodule numbers made generic), and every id
 * written as a literal in the verifier's sources (ids on failure or rare paths). Both must be in the check-id
 * tables of the code (src/checks.ts and one per stack), and each section of the page lists exactly its table.
 */
import { describe, expect, it } from 'vitest';
import { encodeBundle, generateGatewayKey, randomBytes, type Check } from '@ccinfer/core';
import { generateKeyPair } from 'jose';
import { appraise, parsePolicy } from '../../src/index.js';
import { CHECK_TABLES } from '../../src/checks.js';
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

/** recordedIds once per file: three tests read it and each appraisal run costs seconds. */
let recordedOnce: Promise<Set<string>> | undefined;
const recordedIdsOnce = (): Promise<Set<string>> => (recordedOnce ??= recordedIds());

/** Ids written as a string literal where a step is recorded: `checks.run('tdx.eventLog', …)`, `step('nras.jwks', …)`. */
function literalIds(): Set<string> {
  const ids = new Set<string>();
  const files = sourceFiles('packages/verifier/src', ['.ts']).filter((f) => !f.includes('/testing'));
  for (const f of files) {
    for (const m of readRepoFile(f).matchAll(/\b(?:run|pass|skip|step)\(\s*'([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)'/g)) ids.add(m[1]!);
  }
  return ids;
}

/** The first-column ids of each `## ` section's table, plus the NVSwitch ids its prose lists. */
function documentedByTable(): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let ids: string[] | undefined;
  for (const line of docsPage('checks.md').split('\n')) {
    if (line.startsWith('## ')) sections.set(line, (ids = []));
    else if (ids && line.startsWith('| `')) ids.push(...[...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    else if (ids) ids.push(...[...line.matchAll(/`(switch<j>\.[A-Za-z0-9.]+)`/g)].map((m) => m[1]!));
  }
  return sections;
}

const TABLE_OF_SECTION: Record<string, keyof typeof CHECK_TABLES> = {
  'Bundle appraisal': 'bundle',
  'AMD SEV-SNP': 'snp',
  'Intel TDX': 'tdx',
  'NVIDIA GPU and NVSwitch': 'nvidia',
  'NVIDIA Remote Attestation Service': 'nras',
  'Trustee EAR tokens': 'trustee',
};

describe('check-id tables', () => {
  it('hold every id the appraisals record, each id in one table only', async () => {
    const all = Object.values(CHECK_TABLES).flat();
    expect(new Set(all).size).toBe(all.length);
    const tabled = new Set(all);
    const recorded = [...(await recordedIdsOnce()), ...literalIds()];
    expect(recorded.length).toBeGreaterThan(50);
    expect([...new Set(recorded)].filter((id) => !tabled.has(id)).sort()).toEqual([]);
  }, 60_000);

  it('are what docs/checks.md lists, section by section', () => {
    const sections = documentedByTable();
    expect(sections.size).toBe(Object.keys(TABLE_OF_SECTION).length);
    for (const [heading, ids] of sections) {
      const name = Object.keys(TABLE_OF_SECTION).find((k) => heading.startsWith(`## ${k} `));
      expect(name, heading).toBeDefined();
      expect([...new Set(ids)].sort(), heading).toEqual([...CHECK_TABLES[TABLE_OF_SECTION[name!]!]].sort());
    }
  });

  it('a table without an id the code records is caught (the comparison can fail)', async () => {
    const recorded = await recordedIdsOnce();
    const without = new Set(CHECK_TABLES.snp.filter((id) => id !== 'snp.signature'));
    expect([...recorded].filter((id) => id.startsWith('snp.') && !without.has(id))).toEqual(['snp.signature']);
  }, 60_000);
});

describe('docs/checks.md', () => {
  it('lists every check id the appraisals record', async () => {
    const documented = codeSpans(docsPage('checks.md'));
    const recorded = await recordedIdsOnce();
    const literal = literalIds();
    // The scan must see the stacks (a broken regex would pass vacuously).
    for (const id of ['snp.signature', 'tdx.quote.signature', 'nras.signature', 'binding.reportData']) expect(literal).toContain(id);
    for (const id of ['gpu<i>.signature', 'switch<j>.signature', 'snp.policy.measurement', 'tdx.policy.mrTd', 'trustee.<submod>.status']) expect(recorded).toContain(id);
    const missing = [...new Set([...recorded, ...literal])].filter((id) => !documented.has(id)).sort();
    expect(missing).toEqual([]);
  }, 60_000);
});
