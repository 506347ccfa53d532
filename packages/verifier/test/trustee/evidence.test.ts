/** Trustee (KBS protocol 0.4.0) evidence shapes mapped onto bundles, and appraisal under the trustee-kbs binding. */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError, fromHex, randomBytes, toBase64, toHex, trusteeKbsBinding, type TeePubKey } from '@ccinfer/core';
import { exportJWK, generateKeyPair } from 'jose';
import { appraise, parsePolicy, parseSnpReport } from '../../src/index.js';
import {
  bundleFromKbsAttestation,
  encodeTrusteeTdxEvidence,
  parseKbsAttestation,
  parseTrusteeSnpEvidence,
  parseTrusteeTdxEvidence,
  snpReportFromJson,
  snpReportToJson,
} from '../../src/trustee.js';
import { mintKbsAttestation } from '../../src/testing.js';
import { expectCode, expectCodeSync } from '../../../../test-support/helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const lab = parsePolicy({ version: 1, gpu: { requireRim: false, ocsp: 'skip' } });
const captured = JSON.parse(readFileSync(new URL('./fixtures/snp-evidence-captured.json', import.meta.url), 'utf8')) as { attestation_report: Record<string, unknown>; cert_chain: null };
let teePubkey: TeePubKey;

beforeAll(async () => {
  const { publicKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
  const jwk = await exportJWK(publicKey);
  teePubkey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: jwk.x!, y: jwk.y! };
});

describe('SNP evidence in the sev crate JSON form', () => {
  it('maps the captured attester document onto the report bytes the PSP signed', () => {
    const bytes = snpReportFromJson(captured.attestation_report);
    const r = parseSnpReport(bytes);
    expect(r.version).toBe(2);
    expect(r.vmpl).toBe(0);
    expect(toHex(r.reportData.subarray(0, 4))).toBe(toHex(new TextEncoder().encode('test')));
    expect(toHex(r.measurement)).toBe('6b4341626c55754a579fa6a8eacf6ed545b639691c1acf9b42981545453dbb0bc9efdbf000ba32d22eb0dce63a2ea5c4');
    expect(toHex(r.chipId).slice(0, 16)).toBe('126a06a956658ef0');
    // The older positional capture is read byte for byte; re-encoded it takes the sev 6.3 shape, same bytes.
    const current = snpReportToJson(bytes);
    expect(current).toHaveProperty('key_info');
    expect(toHex(snpReportFromJson(current))).toBe(toHex(bytes));
    expect(parseTrusteeSnpEvidence(captured).leaf).toBeUndefined();
  });

  it('refuses missing, unknown and mis-sized fields', () => {
    const { measurement: _m, ...missing } = captured.attestation_report;
    expectCodeSync(() => snpReportFromJson(missing), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expectCodeSync(() => snpReportFromJson({ ...captured.attestation_report, extra: 1 }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expectCodeSync(() => snpReportFromJson({ ...captured.attestation_report, measurement: [1, 2] }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expectCodeSync(() => snpReportFromJson({ ...captured.attestation_report, vmpl: 2 ** 33 }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expectCodeSync(() => parseTrusteeSnpEvidence({ ...captured, extra: 1 }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expectCodeSync(() => parseTrusteeSnpEvidence({ ...captured, cert_chain: [{ cert_type: 'VCEK', data: [256] }] }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
  });

  it('reads TDX evidence { cc_eventlog, quote }', () => {
    const q = randomBytes(64);
    const t = parseTrusteeTdxEvidence(encodeTrusteeTdxEvidence(q));
    expect(toHex(t.quote)).toBe(toHex(q));
    expect(t.ccel).toBeUndefined();
    expect(toHex(parseTrusteeTdxEvidence({ quote: toBase64(q), cc_eventlog: toBase64(fromHex('0102')), aa_eventlog: null }).ccel!)).toBe('0102');
    expectCodeSync(() => parseTrusteeTdxEvidence({ quote: 'AA==', other: 1 }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
  });
});

describe('a KBS Attestation appraised with the trustee-kbs/0.4.0 binding', () => {
  async function attest(spec: Partial<Parameters<typeof mintKbsAttestation>[0]> = {}) {
    const nonce = toBase64(randomBytes(32));
    const m = await mintKbsAttestation({ nonce, teePubkey, gpus: 1, ...spec });
    const tb = await bundleFromKbsAttestation(parseKbsAttestation(m.attestation), 'snp', { snpCrl: m.crl });
    return { m, tb, run: () => appraise(tb.bundle, { nonce: tb.nonce, binding: trusteeKbsBinding, anchors: m.anchors, policy: lab, now: NOW }) };
  }

  it('passes for SNP + GPU evidence built as guest-components builds it', async () => {
    const { tb, run } = await attest();
    expect(tb.bundle.gpus.length).toBe(1);
    const a = await run();
    expect(a.document.ok, JSON.stringify(a.document.errors)).toBe(true);
    expect(a.document.claims['binding']).toBe('trustee-kbs/0.4.0');
  });

  it('refuses REPORT_DATA that is not the digest of this runtime data', async () => {
    const { run } = await attest({ report: { reportData: new Uint8Array(64).fill(7) } });
    const a = await run();
    expect(a.document.ok).toBe(false);
    expect(a.document.errors[0]?.code).toBe('ERR_BINDING_MISMATCH');
  });

  it('refuses GPU evidence made for another nonce', async () => {
    const { run } = await attest({ gpuNonce: randomBytes(32) });
    const a = await run();
    expect(a.document.errors[0]?.code).toBe('ERR_NV_NONCE_MISMATCH');
  });

  it('needs a VCEK / VLEK in cert_chain and a supported TEE', async () => {
    const nonce = toBase64(randomBytes(32));
    const m = await mintKbsAttestation({ nonce, teePubkey, noCerts: true });
    await expectCode(bundleFromKbsAttestation(parseKbsAttestation(m.attestation), 'snp'), ParseError, 'ERR_TRUSTEE_SNP_LEAF_MISSING');
    await expectCode(bundleFromKbsAttestation(parseKbsAttestation(m.attestation), 'sgx'), ParseError, 'ERR_TRUSTEE_TEE_UNSUPPORTED');
    expectCodeSync(() => parseKbsAttestation({ ...m.attestation, extra: 1 }), ParseError, 'ERR_TRUSTEE_EVIDENCE_MALFORMED');
    expectCodeSync(() => parseKbsAttestation({ ...m.attestation, 'runtime-data': { nonce } }), ParseError, 'ERR_TRUSTEE_RUNTIME_DATA');
  });
});
