/**
 * GPU / NVSwitch evidence from the Attestation Agent's NVIDIA attester (`--gpu aa`, guest-components ≥ v0.21):
 * `/aa/additional-evidence` with the client nonce as runtime data; the attester takes its first 32 bytes as
 * the SPDM nonce (guest-components `attester/src/nvidia`). The answer is `""` (no devices) or
 * `{"nvidia": {"device_evidence_list": [{arch, uuid, evidence, certificate}]}}`.
 */
import { CcinferError, type GpuEvidence } from '@ccinfer/core';
import { parseTrusteeAdditionalEvidence } from '@ccinfer/core/internal';
import type { AaClient } from '../aa-client.js';
import { gatewayError } from '../errors.js';
import type { DeviceEvidenceSource } from '../provider.js';

/**
 * The architectures the NVIDIA attester reports: serde's default casing before guest-components commit
 * a3f621c1 (v0.19), UPPERCASE since (v0.21). `LS10` is the NVSwitch.
 */
const ARCHES: ReadonlyMap<string, 'gpu' | 'switch'> = new Map([
  ['HOPPER', 'gpu'],
  ['Hopper', 'gpu'],
  ['BLACKWELL', 'gpu'],
  ['Blackwell', 'gpu'],
  ['LS10', 'switch'],
  ['Ls10', 'switch'],
]);

export function aaDevices(agent: AaClient): DeviceEvidenceSource {
  return {
    async collect(nonce) {
      const body = await agent.get('/aa/additional-evidence', agent.query('v0.21', nonce));
      if (body === undefined) throw gatewayError('ERR_GATEWAY_AA_UNSUPPORTED', 'the Attestation Agent has no /aa/additional-evidence (guest-components < v0.21): use --gpu nvattest or nvml');
      let devices;
      try {
        devices = parseTrusteeAdditionalEvidence(body.trim());
      } catch (cause) {
        if (!(cause instanceof CcinferError)) throw cause;
        throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', 'additional evidence is not NVIDIA device evidence', { cause });
      }
      const gpus: GpuEvidence[] = [];
      const switches: GpuEvidence[] = [];
      for (const d of devices) {
        const kind = ARCHES.get(d.arch);
        if (!kind) throw gatewayError('ERR_GATEWAY_AA_EVIDENCE', `device architecture "${d.arch}" is not one the NVIDIA attester reports`);
        (kind === 'gpu' ? gpus : switches).push({ report: d.evidence, certChain: d.certificate });
      }
      return { gpus, switches };
    },
  };
}
