/**
 * Pinned roots of trust, identified by the SHA-256 of their DER SubjectPublicKeyInfo (docs/trust-model.md). A caller
 * may replace them (the simulator does, and `--anchors FILE` on the CLI), never switch them off.
 *
 * Sources (fingerprints recomputed with `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256`):
 * - AMD ARK-Milan/Genoa/Turin: https://kdsintf.amd.com/vcek/v1/{Milan,Genoa,Turin}/cert_chain (ARK = 2nd cert);
 *   identical copies in go-sev-guest verify/trust and virtee/sev.
 */
import { ConfigError } from '@ccinfer/core';
import type { TrustAnchor } from './x509/index.js';
import type { SnpProductLine } from './snp/parse.js';

export interface TrustAnchors {
  /** AMD Root Keys per product line. */
  amd: Partial<Record<SnpProductLine, TrustAnchor>>;
  /** Intel SGX Root CA. */
  intel: TrustAnchor[];
  /** NVIDIA Device Identity CA (GPU and NVSwitch attestation certificate chains). */
  nvidiaDevice: TrustAnchor[];
  /** NVIDIA RIM / CoRIM signing root. */
  nvidiaRim: TrustAnchor[];
  /** Set on anchors that are not the vendors' (the simulator's); reported in every verification document. */
  simulated?: boolean;
}

export const PINNED_ANCHORS: TrustAnchors = Object.freeze({
  amd: {
    Milan: { name: 'AMD ARK-Milan', spkiSha256: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9' },
    Genoa: { name: 'AMD ARK-Genoa', spkiSha256: '429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831' },
    Turin: { name: 'AMD ARK-Turin', spkiSha256: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08' },
  },
  // Intel SGX Root CA (2018-05-21..2049-12-31): byte-identical in go-tdx-guest verify/trusted_root.pem,
  // dcap-qvl src/TrustedRootCA.der and every real PCK chain; see vectors/tdx/MANIFEST.md.
  intel: [{ name: 'Intel SGX Root CA', spkiSha256: 'a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e' }],
  // NVIDIA roots: nvtrust@0281730 local_gpu_verifier certs/verifier_device_root.pem and verifier_RIM_root.pem
  // (byte-identical in NVIDIA/attestation-sdk and confidential-containers/trustee); see vectors/nvidia/MANIFEST.md.
  nvidiaDevice: [{ name: 'NVIDIA Device Identity CA', spkiSha256: 'a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4' }],
  nvidiaRim: [{ name: 'NVIDIA CoRIM signing Root CA', spkiSha256: 'dec1dc316477aa851eebdf51327ae9f864bc8d89254657ed1e7eb9168af1e1a3' }],
}) as TrustAnchors;

const HEX64 = /^[0-9a-f]{64}$/;

function anchorList(v: unknown, path: string, bad: string[]): TrustAnchor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    bad.push(path);
    return [];
  }
  return v.flatMap((a, i) => {
    const ok = typeof a === 'object' && a !== null && typeof a.name === 'string' && typeof a.spkiSha256 === 'string' && HEX64.test(a.spkiSha256);
    if (!ok) bad.push(`${path}[${i}]`);
    return ok ? [{ name: a.name as string, spkiSha256: a.spkiSha256 as string }] : [];
  });
}

/**
 * Parses an anchors file (`ccinfer gateway --anchors-out` writes one):
 * `{ "amd": { "Milan": {name, spkiSha256}, … }, "intel": [..], "nvidiaDevice": [..], "nvidiaRim": [..], "simulated"?: bool }`.
 */
export function parseAnchors(json: unknown): TrustAnchors {
  const bad: string[] = [];
  if (typeof json !== 'object' || json === null) throw new ConfigError('ERR_ANCHORS_INVALID', 'anchors must be a JSON object', { fields: ['$'] });
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['amd', 'intel', 'nvidiaDevice', 'nvidiaRim', 'simulated'].includes(k)) bad.push(k);
  const amd: TrustAnchors['amd'] = {};
  if (o['amd'] !== undefined) {
    if (typeof o['amd'] !== 'object' || o['amd'] === null) bad.push('amd');
    else {
      for (const [k, v] of Object.entries(o['amd'] as Record<string, unknown>)) {
        if (k !== 'Milan' && k !== 'Genoa' && k !== 'Turin') {
          bad.push(`amd.${k}`);
          continue;
        }
        const [a] = anchorList([v], `amd.${k}`, bad);
        if (a) amd[k] = a;
      }
    }
  }
  const out: TrustAnchors = {
    amd,
    intel: anchorList(o['intel'], 'intel', bad),
    nvidiaDevice: anchorList(o['nvidiaDevice'], 'nvidiaDevice', bad),
    nvidiaRim: anchorList(o['nvidiaRim'], 'nvidiaRim', bad),
  };
  if (o['simulated'] !== undefined) {
    if (typeof o['simulated'] !== 'boolean') bad.push('simulated');
    else out.simulated = o['simulated'];
  }
  if (bad.length) throw new ConfigError('ERR_ANCHORS_INVALID', `invalid anchors: ${bad.join(', ')}`, { fields: bad });
  return out;
}
