/**
 * Simulated Confidential Containers guests speaking Trustee's KBS protocol 0.4.0: a KBS `Attestation` message
 * exactly as guest-components builds it (runtime data, SNP evidence in the sev crate's JSON form, NVIDIA
 * device evidence as additional evidence), from the simulated AMD / NVIDIA hierarchies; and Trustee
 * Attestation Service EAR tokens with any claim values.
 */
import { type TeePubKey } from '@ccinfer/core';
import { encodeTrusteeAdditionalEvidence, trusteeGpuNonce, trusteeReportData64, type KbsRuntimeData } from '@ccinfer/core/internal';
import { SignJWT } from 'jose';
import type { TrustAnchors } from '../anchors.js';
import { encodeTrusteeSnpEvidence, encodeTrusteeTdxEvidence } from '../trustee/evidence.js';
import { mintDevices, simulatedPodMaterial, type SimulatedPodMaterial } from './bundle.js';
import { encodeReport, signReport, type ReportFields } from './snp.js';
import { mintTdxQuote, type TdxQuoteSpec } from './tdx.js';

export interface KbsAttestationSpec {
  /** The KBS challenge nonce (base64 string). */
  nonce: string;
  teePubkey: TeePubKey;
  /** The primary TEE. Default `snp`; `tdx` sends a v4 quote in Trustee's `{ cc_eventlog, quote }` form. */
  tee?: 'snp' | 'tdx';
  /** TDX quote fields (reportData is computed unless given). */
  quote?: TdxQuoteSpec;
  gpus?: number;
  switches?: number;
  /** SNP report fields (reportData is computed unless given). */
  report?: ReportFields;
  /** TOML init-data document sent as `init-data` (its digest is not put in HOST_DATA unless `report.hostData`). */
  initdata?: string;
  /** Nonce placed in the GPU SPDM requests (default: derived from the runtime data, as the attester does). */
  gpuNonce?: Uint8Array;
  /** Omit the VCEK / chain from cert_chain (as when the host provides no certificates). */
  noCerts?: boolean;
}

export interface MintedKbsAttestation {
  /** The JSON body of `POST /kbs/v0/attest`. */
  attestation: Record<string, unknown>;
  runtime: KbsRuntimeData;
  additionalEvidence: string;
  anchors: TrustAnchors;
  /** The simulated ARK's CRL (what KDS would serve). */
  crl: Uint8Array;
}

/** What a guest's CDH / attestation agent sends to `/kbs/v0/attest`, from simulated SNP (+ GPU) hardware. */
export async function mintKbsAttestation(spec: KbsAttestationSpec, material?: SimulatedPodMaterial): Promise<MintedKbsAttestation> {
  const m = material ?? (await simulatedPodMaterial());
  const runtime: KbsRuntimeData = { nonce: spec.nonce, 'tee-pubkey': spec.teePubkey };
  const gpuNonce = spec.gpuNonce ?? (await trusteeGpuNonce(runtime));
  const devs = await mintDevices(m.nvidia, gpuNonce, spec.gpus ?? 0, spec.switches ?? 0);
  const additionalEvidence = encodeTrusteeAdditionalEvidence([
    ...devs.gpus.map((d, i) => ({ arch: 'HOPPER', uuid: `GPU-00000000-0000-0000-0000-00000000000${i}`, evidence: d.report, certificate: d.certChain })),
    ...devs.switches.map((d, i) => ({ arch: 'LS10', uuid: `SWITCH-${i}`, evidence: d.report, certificate: d.certChain })),
  ]);
  const reportData = spec.report?.reportData ?? (await trusteeReportData64(runtime, additionalEvidence));
  const primary = spec.tee === 'tdx' ? await tdxPrimary(m, spec, reportData) : await snpPrimary(m, spec, reportData);
  const attestation: Record<string, unknown> = {
    ...(spec.initdata !== undefined ? { 'init-data': { format: 'toml', body: spec.initdata } } : {}),
    'runtime-data': runtime,
    'tee-evidence': { primary_evidence: primary, additional_evidence: additionalEvidence },
  };
  return { attestation, runtime, additionalEvidence, anchors: m.anchors, crl: await m.amd.mintCrl() };
}

async function tdxPrimary(m: SimulatedPodMaterial, spec: KbsAttestationSpec, reportData: Uint8Array): Promise<Record<string, unknown>> {
  const { quote } = await mintTdxQuote(m.intel, { version: 4, ...spec.quote, reportData: spec.quote?.reportData ?? reportData });
  return encodeTrusteeTdxEvidence(quote);
}

async function snpPrimary(m: SimulatedPodMaterial, spec: KbsAttestationSpec, reportData: Uint8Array): Promise<Record<string, unknown>> {
  const leaf = await m.amd.mintLeaf({ kind: 'vcek', ...(spec.report?.reportedTcb ? { tcb: spec.report.reportedTcb } : {}) });
  const report = await signReport(encodeReport({ ...spec.report, reportData }, m.amd.product), leaf.key);
  return encodeTrusteeSnpEvidence(
    report,
    spec.noCerts
      ? null
      : [
          { type: 'ARK', der: m.amd.arkDer },
          { type: 'ASK', der: m.amd.askDer },
          { type: 'VCEK', der: leaf.der },
        ],
  );
}

export interface TrusteeEarSpec {
  nonce: string;
  /** Status per submod; default { cpu0: 'affirming' }. */
  submods?: Record<string, 'affirming' | 'warning' | 'contraindicated' | 'none'>;
  /** Submods whose runtime-data claims carry another nonce. */
  nonceOverride?: Record<string, string>;
  profile?: string;
  /** `ear-crate` ("ear.status", annotated evidence) or `trustee` ("ear_status", ear_verifier_claims). */
  spelling?: 'ear-crate' | 'trustee';
  iat?: number;
  exp?: number;
  alg?: 'ES256' | 'ES384';
  teePubkey?: unknown;
}

/** Mints a Trustee AS EAR token signed by `key` (header carries no trusted key material). */
export async function mintTrusteeEar(key: CryptoKey, spec: TrusteeEarSpec): Promise<string> {
  const spelling = spec.spelling ?? 'ear-crate';
  const iat = spec.iat ?? Math.floor(Date.now() / 1000);
  const submods: Record<string, unknown> = {};
  for (const [name, status] of Object.entries(spec.submods ?? { cpu0: 'affirming' })) {
    const runtime = { 'additional-evidence': '', nonce: spec.nonceOverride?.[name] ?? spec.nonce, 'tee-pubkey': spec.teePubkey ?? {} };
    const tv = status === 'affirming' ? { 'instance-identity': 2, configuration: 2, executables: 3, hardware: 2 } : { executables: 33, hardware: 97 };
    submods[name] =
      spelling === 'ear-crate'
        ? { 'ear.status': status, 'ear.trustworthiness-vector': tv, 'ear.appraisal-policy-id': 'default', 'ear.veraison.annotated-evidence': name.startsWith('cpu') ? { report_data: 'AAAA', runtime_data_claims: runtime, snp: {} } : { nvidia: {} } }
        : { ear_status: status, ear_trustworthiness_vector: tv, ear_appraisal_policy_ids: ['default'], ear_attester_claims: { tee: 'snp', claims: {} }, ...(name.startsWith('cpu') ? { ear_verifier_claims: { runtime_data: runtime } } : {}) };
  }
  return new SignJWT({
    eat_profile: spec.profile ?? 'tag:github.com,2024:confidential-containers/Trustee',
    [spelling === 'ear-crate' ? 'ear.verifier-id' : 'ear_verifier_id']: { developer: 'https://confidentialcontainers.org', build: 'attestation-service 0.1.0' },
    submods,
  })
    .setProtectedHeader({ alg: spec.alg ?? 'ES256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(spec.exp ?? iat + 300)
    .sign(key);
}
