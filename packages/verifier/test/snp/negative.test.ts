/** Every SEV-SNP error code, produced with simulated evidence (`@ccinfer/verifier/testing`). */
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError, fromUtf8 } from '@ccinfer/core';
import { der } from '@ccinfer/core/internal';
import { verifySnp, parseSnpReport, PINNED_ANCHORS, vcekUrl, type SnpEvidence, type VerifySnpOptions } from '../../src/index.js';
import { parseCertTable, decodeTcb } from '../../src/internal.js';
import { simulatedAmd, mintSnpEvidence, encodeReport, generateKey, type SimulatedAmd, type ReportFields } from '../../src/testing.js';
import { AMD_OID } from '../../src/snp/endorsement.js';
import { crlUrl } from '../../src/snp/collateral.js';
import { expectCodeSync, flip } from '../../../../test-support/helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');
let genoa: SimulatedAmd;
let turin: SimulatedAmd;
let milan: SimulatedAmd;

beforeAll(async () => {
  [genoa, turin, milan] = await Promise.all([simulatedAmd('Genoa'), simulatedAmd('Turin'), simulatedAmd('Milan')]);
});

async function run(evidence: SnpEvidence, options: VerifySnpOptions = {}, sim = genoa) {
  return verifySnp(evidence, { anchors: sim.anchors, now: NOW, ...options });
}

async function verdict(fields: ReportFields = {}, options: VerifySnpOptions = {}, sim = genoa, mint: Parameters<typeof mintSnpEvidence>[2] = {}) {
  const ev = await mintSnpEvidence(sim, fields, mint);
  return run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: ev.crl }, options, sim);
}

function failedWith(doc: Awaited<ReturnType<typeof verifySnp>>, code: string, checkId?: string): void {
  expect(doc.ok).toBe(false);
  expect(doc.errors.map((e) => e.code)).toContain(code);
  if (checkId) expect(doc.checks.find((c) => c.status === 'failed')?.id).toBe(checkId);
}

describe('simulated evidence', () => {
  it('is accepted with the simulator anchors and marked SIMULATED', async () => {
    for (const sim of [genoa, turin, milan]) {
      const doc = await verdict({}, {}, sim);
      expect(doc.errors).toEqual([]);
      expect(doc.ok).toBe(true);
      expect(doc.claims['productLine']).toBe(sim.product);
      expect(doc.warnings[0]).toMatch(/SIMULATED/);
      expect(doc.checks.find((c) => c.id === 'snp.revocation')?.status).toBe('passed');
    }
  });

  it('is refused under the pinned AMD roots', async () => {
    const doc = await verdict({}, { anchors: PINNED_ANCHORS });
    failedWith(doc, 'ERR_X509_UNTRUSTED_ROOT', 'snp.chain');
  });

  it('a VLEK-signed report verifies through the ASVK', async () => {
    const doc = await verdict({}, { policy: { signingKeys: ['vlek'] } }, genoa, { kind: 'vlek' });
    expect(doc.errors).toEqual([]);
    expect(doc.claims['signingKey']).toBe('vlek');
  });
});

describe('parse errors', () => {
  it.each([
    ['ERR_SNP_REPORT_SIZE', (r: Uint8Array) => r.subarray(0, 1183)],
    ['ERR_SNP_REPORT_SIZE', (r: Uint8Array) => new Uint8Array([...r, 0])],
  ])('%s', (code, mutate) => {
    const r = encodeReport({}, 'Genoa');
    expectCodeSync(() => parseSnpReport(mutate(r)), ParseError, code);
  });

  const field = (f: ReportFields): Uint8Array => encodeReport(f, 'Genoa');
  const poke = (r: Uint8Array, off: number, v: number): Uint8Array => {
    const o = r.slice();
    o[off] = v;
    return o;
  };
  it.each<[string, () => Uint8Array]>([
    ['ERR_SNP_REPORT_VERSION', () => field({ version: 1 })],
    ['ERR_SNP_REPORT_VERSION', () => field({ version: 6 })],
    ['ERR_SNP_SIGNATURE_ALGO', () => field({ signatureAlgo: 2 })],
    ['ERR_SNP_KEY_INFO', () => field({ keyInfo: 7 << 2 })],
    ['ERR_SNP_KEY_INFO', () => field({ keyInfo: 2 << 2 })],
    ['ERR_SNP_KEY_INFO', () => field({ keyInfo: 1 << 5 })],
    ['ERR_SNP_POLICY_RESERVED', () => field({ policy: 0x10000n })],
    ['ERR_SNP_POLICY_RESERVED', () => field({ policy: 0x30000n | (1n << 40n) })],
    ['ERR_SNP_RESERVED_NONZERO', () => field({ vmpl: 4 })],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({}), 0x4c, 1)],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({}), 0x18b, 1)],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({ version: 2 }), 0x188, 1)],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({ version: 3 }), 0x1f8, 1)],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({}), 0x1eb, 1)],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({}), 0x250, 1)],
    ['ERR_SNP_RESERVED_NONZERO', () => poke(field({}), 0x400, 1)],
  ])('%s', (code, make) => {
    expectCodeSync(() => parseSnpReport(make()), ParseError, code);
  });

  it('ERR_SNP_PRODUCT_UNKNOWN: CPUID of a non-SNP family', async () => {
    const doc = await verdict({ cpuid: { family: 0x17, model: 0x31, stepping: 0 } });
    failedWith(doc, 'ERR_SNP_PRODUCT_UNKNOWN');
  });

  it('ERR_SNP_RESERVED_NONZERO: a TCB with reserved bytes set', () => {
    expectCodeSync(() => decodeTcb(0x4700000002000100n | (1n << 40n), 'Turin'), ParseError, 'ERR_SNP_RESERVED_NONZERO');
    expectCodeSync(() => decodeTcb(1n << 16n, 'Milan'), ParseError, 'ERR_SNP_RESERVED_NONZERO');
  });

  it('ERR_SNP_LEAF_MALFORMED: missing productName, wrong hwID size, wrong CN, VLEK with hwID', async () => {
    failedWith(await verdict({}, {}, genoa, { leaf: { omit: [AMD_OID.productName] } }), 'ERR_SNP_LEAF_MALFORMED', 'snp.endorsementKey');
    failedWith(await verdict({}, {}, genoa, { leaf: { extensions: [{ oid: AMD_OID.hwId, value: new Uint8Array(8) }] } }), 'ERR_SNP_LEAF_MALFORMED', 'snp.endorsementKey');
    failedWith(await verdict({}, {}, genoa, { leaf: { extensions: [{ oid: AMD_OID.blSpl, value: der.ia5('x') }] } }), 'ERR_SNP_LEAF_MALFORMED', 'snp.endorsementKey');
    failedWith(await verdict({}, {}, genoa, { kind: 'vlek', leaf: { extensions: [{ oid: AMD_OID.hwId, value: new Uint8Array(64) }] } }), 'ERR_SNP_LEAF_MALFORMED');
  });
});

describe('verification errors', () => {
  it('ERR_SNP_SIGNATURE_INVALID: one flipped byte anywhere in the signed range', async () => {
    const ev = await mintSnpEvidence(genoa);
    for (const off of [0x90, 0x50, 0x1a0]) {
      const doc = await run({ report: flip(ev.report, off), leaf: ev.leaf, chain: ev.chain, crl: ev.crl });
      failedWith(doc, off === 0x1a0 ? 'ERR_SNP_CHIP_ID_MISMATCH' : 'ERR_SNP_SIGNATURE_INVALID');
    }
    failedWith(await run({ report: flip(ev.report, 0x2a0), leaf: ev.leaf, chain: ev.chain, crl: ev.crl }), 'ERR_SNP_SIGNATURE_INVALID', 'snp.signature');
    // Only the low 48 bytes of the 72-byte R are significant; the rest must be zero.
    failedWith(await run({ report: flip(ev.report, 0x2a0 + 60), leaf: ev.leaf, chain: ev.chain, crl: ev.crl }), 'ERR_SNP_SIGNATURE_INVALID', 'snp.signature');
  });

  it('ERR_SNP_SIGNATURE_INVALID: signed by another key', async () => {
    const other = await genoa.mintLeaf({});
    failedWith(await verdict({}, {}, genoa, { signWith: other.key }), 'ERR_SNP_SIGNATURE_INVALID', 'snp.signature');
  });

  it('ERR_X509_KEY_INVALID: a VCEK certifying a point not on P-384 (issue 10 finding 11: typed, not ERR_INTERNAL)', async () => {
    const key = await generateKey('P-384');
    const spki = flip(key.spki, key.spki.length - 1);
    const doc = await verdict({}, {}, genoa, { leaf: { key: { ...key, spki } }, signWith: key });
    failedWith(doc, 'ERR_X509_KEY_INVALID', 'snp.signature');
  });

  it('ERR_SNP_SIGNING_KEY_MISMATCH: KEY_INFO says VLEK, leaf is a VCEK', async () => {
    failedWith(await verdict({ keyInfo: 1 << 2 }), 'ERR_SNP_SIGNING_KEY_MISMATCH', 'snp.tcbBinding');
  });

  it('ERR_SNP_TCB_MISMATCH: leaf certified for another TCB (e.g. CURRENT instead of REPORTED)', async () => {
    const doc = await verdict({}, {}, genoa, { leaf: { tcb: { bootloader: 9, tee: 0, snp: 23, microcode: 73 } } });
    failedWith(doc, 'ERR_SNP_TCB_MISMATCH', 'snp.tcbBinding');
  });

  it('ERR_SNP_TCB_INCONSISTENT: REPORTED_TCB above CURRENT_TCB', async () => {
    const doc = await verdict({ currentTcb: { bootloader: 9, tee: 0, snp: 23, microcode: 70 } }, { policy: { allowProvisionalFirmware: true } });
    failedWith(doc, 'ERR_SNP_TCB_INCONSISTENT', 'snp.tcbBinding');
  });

  it('ERR_SNP_CHIP_ID_MISMATCH: VCEK of another chip; Turin compares 8 bytes and needs the rest zero', async () => {
    const other = new Uint8Array(64).fill(7);
    failedWith(await verdict({}, {}, genoa, { leaf: { chipId: other } }), 'ERR_SNP_CHIP_ID_MISMATCH', 'snp.tcbBinding');
    const turinChip = new Uint8Array(64);
    turinChip.set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await verdict({ chipId: turinChip }, {}, turin)).ok).toBe(true);
    const tail = turinChip.slice();
    tail[9] = 1;
    failedWith(await verdict({ chipId: tail }, {}, turin, { leaf: { chipId: turinChip } }), 'ERR_SNP_CHIP_ID_MISMATCH');
    // A masked (all-zero) CHIP_ID cannot be compared and is accepted by the binding check.
    expect((await verdict({ chipId: new Uint8Array(64) }, {}, genoa, { leaf: { chipId: new Uint8Array(64).fill(5) } })).ok).toBe(true);
  });

  it('ERR_SNP_PRODUCT_MISMATCH: CPUID says Milan, the VCEK is Genoa', async () => {
    failedWith(await verdict({ cpuid: { family: 0x19, model: 0x01, stepping: 1 } }), 'ERR_SNP_PRODUCT_MISMATCH', 'snp.productLine');
  });

  it('v2 reports take the product line from the leaf', async () => {
    const doc = await verdict({ version: 2 }, {}, milan);
    expect(doc.ok).toBe(true);
    expect(doc.checks.find((c) => c.id === 'snp.productLine')?.detail).toMatch(/endorsement key/);
  });

  it('ERR_SNP_CHAIN_INVALID: a VCEK presented with the ASVK chain, or a short chain', async () => {
    const ev = await mintSnpEvidence(genoa);
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: genoa.chainPem('vlek'), crl: ev.crl }), 'ERR_SNP_CHAIN_INVALID', 'snp.chain');
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: [genoa.askDer], crl: ev.crl }), 'ERR_SNP_CHAIN_INVALID', 'snp.chain');
  });

  it('ERR_X509_EXPIRED / NOT_YET_VALID: leaf outside its validity at `now`', async () => {
    failedWith(await verdict({}, {}, genoa, { leaf: { notAfter: new Date('2026-01-01Z') } }), 'ERR_X509_EXPIRED', 'snp.chain');
    failedWith(await verdict({}, {}, genoa, { leaf: { notBefore: new Date('2026-12-01Z') } }), 'ERR_X509_NOT_YET_VALID', 'snp.chain');
  });

  it('ERR_SNP_REVOKED: the ARK CRL lists the ASK', async () => {
    const ev = await mintSnpEvidence(genoa);
    const crl = await genoa.mintCrl({ revokedSerials: [2] });
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl }), 'ERR_SNP_REVOKED', 'snp.revocation');
  });

  it('ERR_SNP_CRL_SCOPE: a CRL scoped to the ASVKs cannot vouch for an ASK (and vice versa)', async () => {
    const vcek = await mintSnpEvidence(genoa);
    failedWith(await run({ report: vcek.report, leaf: vcek.leaf, chain: vcek.chain, crl: await genoa.mintCrl({ scope: 'vlek' }) }), 'ERR_SNP_CRL_SCOPE', 'snp.revocation');
    expect((await run({ report: vcek.report, leaf: vcek.leaf, chain: vcek.chain, crl: await genoa.mintCrl({ scope: 'vcek' }) })).ok).toBe(true);
    const vlek = await mintSnpEvidence(genoa, {}, { kind: 'vlek' });
    failedWith(await run({ report: vlek.report, leaf: vlek.leaf, chain: vlek.chain, crl: await genoa.mintCrl({ scope: 'vcek' }) }), 'ERR_SNP_CRL_SCOPE', 'snp.revocation');
  });

  it('ERR_SNP_CRL_SCOPE: a VLEK chain whose ASVK is revoked does not pass on the VCEK CRL, scoped or not', async () => {
    const vlek = await mintSnpEvidence(genoa, {}, { kind: 'vlek' });
    const ev = { report: vlek.report, leaf: vlek.leaf, chain: vlek.chain };
    // The ASVK (serial 3) is revoked on the VLEK CRL; the pod hands in the genuine, current VCEK CRL instead.
    const vcekCrl = await genoa.mintCrl({ scope: 'none' });
    failedWith(await run({ ...ev, crl: vcekCrl }), 'ERR_SNP_CRL_SCOPE', 'snp.revocation');
    failedWith(await run({ ...ev, crl: vcekCrl }, { policy: { revocation: 'allow-unavailable' } }), 'ERR_SNP_CRL_SCOPE', 'snp.revocation');
    // With a fetcher the verifier fetches the CRL at the ASVK's distribution point, and finds the ASVK there.
    const vlekCrl = await genoa.mintCrl({ scope: 'none', revokedSerials: [3] });
    const asked: string[] = [];
    const fetcher = async (url: string): Promise<Response> => {
      asked.push(url);
      return new Response(new Uint8Array(url === crlUrl('Genoa', 'vlek') ? vlekCrl : vcekCrl));
    };
    failedWith(await run({ ...ev, crl: vcekCrl }, { fetcher }), 'ERR_SNP_REVOKED', 'snp.revocation');
    expect(asked).toEqual([crlUrl('Genoa', 'vlek')]);
    // Fetched from the right place, an unscoped CRL is tied to the hierarchy by that place.
    const doc = await run(ev, { fetcher: async () => new Response(new Uint8Array(await genoa.mintCrl({ scope: 'none' }))) });
    expect(doc.checks.find((c) => c.id === 'snp.revocation')?.status).toBe('passed');
  });

  it('ERR_X509_CRL_SIGNATURE_INVALID / ERR_X509_CRL_EXPIRED', async () => {
    const ev = await mintSnpEvidence(genoa);
    const forged = await genoa.mintCrl({ signer: genoa.ask });
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: forged }), 'ERR_X509_CRL_SIGNATURE_INVALID', 'snp.revocation');
    const stale = await genoa.mintCrl({ nextUpdate: new Date('2026-01-01Z') });
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: stale }), 'ERR_X509_CRL_EXPIRED', 'snp.revocation');
    // Time: a CRL issued after `now` (a clock set back, or a CRL from the future) is not current either.
    const early = await genoa.mintCrl({ thisUpdate: new Date(NOW.getTime() + 1000) });
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: early }), 'ERR_X509_CRL_EXPIRED', 'snp.revocation');
    // One second past nextUpdate is refused; the last second before it is accepted.
    const edge = await genoa.mintCrl({ nextUpdate: new Date(NOW.getTime() + 1000) });
    expect((await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: edge })).ok).toBe(true);
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: edge }, { now: new Date(NOW.getTime() + 2000) }), 'ERR_X509_CRL_EXPIRED', 'snp.revocation');
  });

  it('ERR_SNP_REPORT_DATA_MISMATCH: binding differs', async () => {
    const ev = await mintSnpEvidence(genoa, { reportData: new Uint8Array(64).fill(1) });
    const doc = await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain, crl: ev.crl }, { expectedReportData: new Uint8Array(64).fill(2) });
    failedWith(doc, 'ERR_SNP_REPORT_DATA_MISMATCH', 'snp.reportData');
  });
});

describe('collateral', () => {
  it('ERR_SNP_CRL_UNAVAILABLE unless the policy accepts it (then recorded as skipped with a warning)', async () => {
    const ev = await mintSnpEvidence(genoa);
    failedWith(await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain }), 'ERR_SNP_CRL_UNAVAILABLE', 'snp.revocation');
    const doc = await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain }, { policy: { revocation: 'allow-unavailable' } });
    expect(doc.ok).toBe(true);
    expect(doc.checks.find((c) => c.id === 'snp.revocation')).toMatchObject({ status: 'skipped', ok: false });
    expect(doc.warnings.join('\n')).toMatch(/revocation NOT CHECKED/);
    // skip: not looked for, even with a fetcher at hand; recorded as skipped, never passed.
    let fetched = 0;
    const skipped = await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain }, { policy: { revocation: 'skip' }, fetcher: async () => (fetched++, new Response(null, { status: 500 })) });
    expect(skipped.ok).toBe(true);
    expect(fetched).toBe(0);
    expect(skipped.checks.find((c) => c.id === 'snp.revocation')).toMatchObject({ status: 'skipped', ok: false });
  });

  it('ERR_SNP_LEAF_UNAVAILABLE: VLEK report without its VLEK; VCEK without a fetcher', async () => {
    const vlek = await mintSnpEvidence(genoa, {}, { kind: 'vlek' });
    failedWith(await run({ report: vlek.report, chain: vlek.chain, crl: vlek.crl }), 'ERR_SNP_LEAF_UNAVAILABLE', 'snp.endorsementKey');
    const vcek = await mintSnpEvidence(genoa);
    failedWith(await run({ report: vcek.report, chain: vcek.chain, crl: vcek.crl }), 'ERR_SNP_LEAF_UNAVAILABLE', 'snp.endorsementKey');
  });

  it('ERR_SNP_CHAIN_UNAVAILABLE: no chain and no fetcher', async () => {
    const ev = await mintSnpEvidence(genoa);
    failedWith(await run({ report: ev.report, leaf: ev.leaf, crl: ev.crl }), 'ERR_SNP_CHAIN_UNAVAILABLE', 'snp.chain');
  });

  it('fetches VCEK (REPORTED_TCB, Turin 8-byte hwID + fmcSPL), chain and CRL from a KDS, then from the cache', async () => {
    const ev = await mintSnpEvidence(turin, { currentTcb: { fmc: 1, bootloader: 2, tee: 0, snp: 3, microcode: 80 } }, {});
    const crl = ev.crl;
    const urls: string[] = [];
    const fetcher = async (url: string): Promise<Response> => {
      urls.push(url);
      if (url.includes('/cert_chain')) return new Response(ev.chain);
      if (url.endsWith('/crl')) return new Response(crl as Uint8Array<ArrayBuffer>);
      if (url.includes('/vcek/v1/Turin/')) return new Response(ev.leaf as Uint8Array<ArrayBuffer>);
      return new Response('', { status: 404 });
    };
    const { MemoryCache } = await import('@ccinfer/core');
    const cache = new MemoryCache();
    const opts = { fetcher, cache, policy: { allowProvisionalFirmware: true } };
    const doc = await run({ report: ev.report }, opts, turin);
    expect(doc.errors).toEqual([]);
    const tcb = decodeTcb(parseSnpReport(ev.report).reportedTcbRaw, 'Turin');
    expect(urls[0]).toBe(vcekUrl('Turin', parseSnpReport(ev.report).chipId, tcb));
    expect(urls[0]).toMatch(/\/vcek\/v1\/Turin\/[0-9a-f]{16}\?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71$/);
    expect(urls).toHaveLength(3);
    await run({ report: ev.report }, opts, turin);
    expect(urls).toHaveLength(3);
  });

  it('retries a 429 and a 503 from the KDS, then succeeds', async () => {
    const ev = await mintSnpEvidence(genoa);
    let n = 0;
    const fetcher = async (url: string): Promise<Response> => {
      n++;
      if (n <= 2) return new Response('busy', { status: n === 1 ? 429 : 503, headers: { 'retry-after': '0' } });
      return url.endsWith('/crl') ? new Response(ev.crl as Uint8Array<ArrayBuffer>) : new Response('', { status: 404 });
    };
    const doc = await run({ report: ev.report, leaf: ev.leaf, chain: ev.chain }, { fetcher });
    expect(doc.errors).toEqual([]);
    expect(n).toBe(3);
  });
});

describe('policy', () => {
  it.each<[string, ReportFields, VerifySnpOptions['policy']]>([
    ['ERR_SNP_POLICY_DEBUG', { policy: 0x30000n | (1n << 19n) }, {}],
    ['ERR_SNP_POLICY_MIGRATION_AGENT', { policy: 0x30000n | (1n << 18n) }, {}],
    ['ERR_SNP_POLICY_SMT', {}, { allowSmt: false }],
    ['ERR_SNP_POLICY_VMPL', { vmpl: 1 }, {}],
    ['ERR_SNP_POLICY_MEASUREMENT', {}, { measurements: ['ab'.repeat(48)] }],
    ['ERR_SNP_POLICY_HOST_DATA', {}, { hostData: ['ab'.repeat(32)] }],
    ['ERR_SNP_POLICY_TCB', {}, { minTcb: { microcode: 200 } }],
    ['ERR_SNP_POLICY_FIRMWARE', { currentVersion: [1, 55, 20] }, { minFirmware: [1, 55, 21] }],
    ['ERR_SNP_POLICY_PROVISIONAL_FIRMWARE', { currentVersion: [1, 55, 30], committedVersion: [1, 55, 20] }, {}],
    ['ERR_SNP_POLICY_PRODUCT_LINE', {}, { productLines: ['Milan', 'Turin'] }],
    ['ERR_SNP_POLICY_SIGNING_KEY', {}, { signingKeys: ['vlek'] }],
  ])('%s', async (code, fields, policy) => {
    const doc = await verdict(fields, { policy: policy ?? {} });
    expect(doc.errors.map((e) => e.code)).toEqual([code]);
    expect(doc.checks.find((c) => c.status === 'failed')?.id).toMatch(/^snp\.policy\./);
    expect(doc.claims['measurement']).toBeDefined();
  });

  it('reports every failing rule, not only the first', async () => {
    const doc = await verdict({ policy: 0x30000n | (1n << 19n), vmpl: 2 }, { policy: { measurements: ['00'.repeat(48)] } });
    expect(doc.errors.map((e) => e.code).sort()).toEqual(['ERR_SNP_POLICY_DEBUG', 'ERR_SNP_POLICY_MEASUREMENT', 'ERR_SNP_POLICY_VMPL']);
  });

  it('allowlists pass and are recorded as passed; absent ones are skipped, never passed', async () => {
    const ev = await mintSnpEvidence(genoa);
    const m = parseSnpReport(ev.report);
    const { toHex } = await import('@ccinfer/core');
    const doc = await run({ ...ev }, { policy: { measurements: [toHex(m.measurement)] } });
    expect(doc.checks.find((c) => c.id === 'snp.policy.measurement')?.status).toBe('passed');
    expect(doc.checks.find((c) => c.id === 'snp.policy.hostData')?.status).toBe('skipped');
  });
});

describe('certificate table (GHCB §4.1.8.1)', () => {
  const guid = (s: string): number[] => s.replace(/-/g, '').match(/../g)!.map((h) => parseInt(h, 16));
  const table = (entries: { g: string; off: number; len: number }[], total: number): Uint8Array => {
    const b = new Uint8Array(total);
    const v = new DataView(b.buffer);
    entries.forEach((e, i) => {
      b.set(guid(e.g), i * 24);
      v.setUint32(i * 24 + 16, e.off, true);
      v.setUint32(i * 24 + 20, e.len, true);
    });
    return b;
  };
  const VCEK = '63da758d-e664-4564-adc5-f4b93be8accd';
  const ASK = '4ab7b379-bbac-4fe4-a02f-05aef327c782';

  it('parses entries by GUID', () => {
    const t = table([{ g: VCEK, off: 72, len: 4 }, { g: ASK, off: 76, len: 2 }], 80);
    t.set([1, 2, 3, 4, 5, 6], 72);
    const m = parseCertTable(t);
    expect([...m.get(VCEK)!]).toEqual([1, 2, 3, 4]);
    expect([...m.get(ASK)!]).toEqual([5, 6]);
  });

  it.each([
    ['no terminator', () => table([{ g: VCEK, off: 48, len: 4 }], 40)],
    ['offset inside the header', () => table([{ g: VCEK, off: 8, len: 4 }], 100)],
    ['past the end', () => table([{ g: VCEK, off: 48, len: 400 }], 100)],
    ['duplicate GUID', () => table([{ g: VCEK, off: 72, len: 4 }, { g: VCEK, off: 72, len: 4 }], 100)],
  ])('ERR_SNP_CERT_TABLE_MALFORMED: %s', (_, make) => {
    expectCodeSync(() => parseCertTable(make()), ParseError, 'ERR_SNP_CERT_TABLE_MALFORMED');
  });
});

describe('KDS URLs', () => {
  it('match AMD KDS for Milan/Genoa (64-byte hwID) and decode as expected', () => {
    const chip = new Uint8Array(64).fill(0xab);
    expect(vcekUrl('Genoa', chip, { raw: 0n, bootloader: 9, tee: 0, snp: 23, microcode: 72 })).toBe(
      `https://kdsintf.amd.com/vcek/v1/Genoa/${'ab'.repeat(64)}?blSPL=9&teeSPL=0&snpSPL=23&ucodeSPL=72`,
    );
    expect(fromUtf8(new TextEncoder().encode('ok'))).toBe('ok');
  });
});
