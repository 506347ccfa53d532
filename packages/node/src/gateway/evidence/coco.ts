/**
 * The `coco` evidence provider: a Kata Confidential Containers pod, where a container reaches neither
 * configfs-tsm nor `/dev/sev-guest` and CPU evidence comes from the guest's Attestation Agent REST API
 * (aa-client.ts). At start `/info` tells the API generation:
 *
 *  - v0.21+: REPORT_DATA = the 64-byte `ccinfer/1` binding, sent as binary (`encoding=base64`).
 *  - v0.19: runtime data is text of at most 64 bytes, so REPORT_DATA = the `ccinfer/1-text` binding (64
 *    base64url characters); the bundle names the scheme and the client checks it.
 *
 * The attesters zero-pad runtime data to 64 bytes and do not hash it (guest-components `attester/src/snp`,
 * `tdx`), so REPORT_DATA is exactly the binding. Evidence shapes (decoded by the verifier's one decoder for
 * them, which the key broker uses too):
 *   SNP  `{attestation_report: <sev 6.3 JSON>, cert_chain: null | [{cert_type, data}]}` → the exact 1184 bytes
 *   TDX  `{cc_eventlog: base64 | null, quote: base64}` → the quote, and the CCEL the verifier replays
 */
import { CcinferError, ccinferV1Binding, ccinferV1TextBinding, type EvidenceBundle } from '@ccinfer/core';
import { parseTrusteeSnpEvidence, parseTrusteeTdxEvidence } from '@ccinfer/verifier/trustee';
import { AaClient, type AaClientOptions, type AaInfo } from './aa-client.js';
import { gatewayError } from './errors.js';
import { aaDevices } from './gpu/aa.js';
import { assembleBundle, noDevices, type CpuEvidenceSource, type CpuReport, type DeviceEvidenceSource, type EvidenceProvider } from './provider.js';

export interface CocoOptions extends AaClientOptions {
  /**
   * GPU / NVSwitch evidence: `'aa'` (the agent's additional evidence, v0.21+), `'none'`, or another collector
   * (`nvattestDevices`, `nvmlDevices`). Default `'none'`.
   */
  gpu?: 'aa' | 'none' | DeviceEvidenceSource;
  /** SNP: VCEK / VLEK (DER) to use when the agent's cert_chain carries none. */
  snpLeaf?: Uint8Array;
  /** The CoCo initdata document the pod was started with (served in the bundle). */
  initdata?: string;
}

export interface CocoProvider extends EvidenceProvider {
  /** What `/info` said (or the v0.19 defaults). */
  readonly agent: AaInfo;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `${what} is not JSON`, { cause });
  }
}

/** Runs a verifier decoder; its refusal becomes a gateway error with the decoder's error as cause. */
function decoded<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (!(cause instanceof CcinferError)) throw cause;
    throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `${what}: ${cause.message}`, { cause });
  }
}

function agentCpu(agent: AaClient, info: AaInfo, o: CocoOptions): CpuEvidenceSource {
  return {
    async report(reportData): Promise<CpuReport> {
      const text = await agent.get('/aa/evidence', agent.query(info.api, reportData));
      if (text === undefined) throw gatewayError('ERR_GATEWAY_AA_UNSUPPORTED', 'the Attestation Agent has no /aa/evidence (REST API features exclude attestation)');
      const v = parseJson(text, '/aa/evidence');
      // v0.19 has no /info: the evidence's own shape says which TEE answered.
      const snp = typeof v === 'object' && v !== null && 'attestation_report' in v;
      if (info.tee !== undefined && info.tee !== (snp ? 'snp' : 'tdx')) throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `the agent reports TEE ${info.tee} but sent other evidence`);
      if (snp) {
        const e = decoded('SNP evidence', () => parseTrusteeSnpEvidence(v));
        const leaf = e.leaf ?? o.snpLeaf;
        if (!leaf) throw gatewayError('ERR_GATEWAY_NO_LEAF', 'the agent sent no VCEK / VLEK in cert_chain and none is configured');
        return { tee: 'snp', report: e.report, leaf, ...(e.leaf && e.chain.length ? { chain: e.chain } : {}) };
      }
      const e = decoded('TDX evidence', () => parseTrusteeTdxEvidence(v));
      return { tee: 'tdx', quote: e.quote, ...(e.ccel ? { eventLog: e.ccel } : {}) };
    },
  };
}

/** Connects to the agent (`/info`) and returns the provider; fails if the configuration cannot work. */
export async function createCocoProvider(o: CocoOptions = {}): Promise<CocoProvider> {
  const agent = new AaClient(o);
  const info = await agent.info();
  if (info.tee !== undefined && info.tee !== 'snp' && info.tee !== 'tdx') throw gatewayError('ERR_GATEWAY_AA_UNSUPPORTED', `the agent's TEE "${info.tee}" is not snp or tdx`);
  const gpu = o.gpu ?? 'none';
  if (gpu === 'aa' && info.api === 'v0.19') {
    throw gatewayError('ERR_GATEWAY_AA_UNSUPPORTED', 'guest-components v0.19 has no additional-evidence endpoint: use --gpu nvattest or nvml');
  }
  const devices = gpu === 'aa' ? aaDevices(agent) : gpu === 'none' ? noDevices : gpu;
  const cpu = agentCpu(agent, info, o);
  const binding = info.api === 'v0.21' ? ccinferV1Binding : ccinferV1TextBinding;
  return {
    name: 'coco',
    agent: info,
    collect: (request): Promise<EvidenceBundle> => assembleBundle(request, cpu, devices, { binding, ...(o.initdata !== undefined ? { initdata: o.initdata } : {}) }),
  };
}
