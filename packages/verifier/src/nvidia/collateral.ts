/**
 * NVIDIA collateral endpoints: URL builders and response parsers, no fetching (CONTRIBUTING.md "Stages").
 *
 * - RIM service: `GET {base}/v1/rim/<ID>` → JSON `{ id, rim: base64(XML), sha256: hex(SHA-256(XML)), ... }`
 *   (nvtrust / attestation-sdk). The service is not trusted for content: the RIM's own signature is checked.
 * - OCSP: `POST {base}/` with `application/ocsp-request` (RFC 6960 Appendix A.1).
 */
import { CollateralError, fromBase64, subtle, toHex } from '@ccinfer/core';
import { bs } from '@ccinfer/core/internal';

export const RIM_SERVICE_URL = 'https://rim.attestation.nvidia.com';
export const OCSP_URL = 'https://ocsp.ndis.nvidia.com/';
export const NRAS_JWKS_URL = 'https://nras.attestation.nvidia.com/.well-known/jwks.json';

const RIM_ID = /^NV_[A-Z0-9_]+_[0-9A-Za-z.]+$/;

export function rimUrl(id: string, base: string = RIM_SERVICE_URL): string {
  // The id comes from report fields (device-controlled until the signature is checked): never let it shape
  // anything but the last path segment.
  if (!RIM_ID.test(id)) throw new CollateralError('ERR_NV_RIM_MISSING', `"${id}" is not a RIM id`);
  return `${base.replace(/\/+$/, '')}/v1/rim/${encodeURIComponent(id)}`;
}

/**
 * Parses the RIM service JSON and checks that the XML matches the advertised SHA-256 and id. Neither is signed:
 * what makes the document this device's RIM is its own signed identity, checked after its signature
 * (rim.ts `checkRimIdentity`, appraise step `<id>.rim.<kind>.identity`).
 */
export async function parseRimServiceResponse(body: Uint8Array, expectedId: string): Promise<Uint8Array> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new CollateralError('ERR_NV_RIM_MISSING', `RIM service answer for ${expectedId} is not JSON`, { cause });
  }
  const o = json as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o['rim'] !== 'string' || o['id'] !== expectedId) {
    throw new CollateralError('ERR_NV_RIM_MISSING', `RIM service answer does not carry RIM ${expectedId}`);
  }
  const xml = fromBase64(o['rim'], 'ERR_NV_RIM_MISSING');
  if (typeof o['sha256'] === 'string') {
    const got = toHex(new Uint8Array(await subtle().digest('SHA-256', bs(xml))));
    if (got !== o['sha256'].toLowerCase()) {
      throw new CollateralError('ERR_NV_RIM_MISSING', `RIM ${expectedId}: body SHA-256 ${got} differs from the advertised ${o['sha256']}`);
    }
  }
  return xml;
}
