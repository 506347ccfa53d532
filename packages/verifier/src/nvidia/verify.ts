/**
 * Evidence checks for one GPU / NVSwitch (nvtrust local verifier steps 3, 5 and 7, docs/checks.md "NVIDIA GPU and NVSwitch"):
 * the device chain, the FWID binding between report and leaf certificate, the caller's nonce and the SPDM
 * signature.
 */
import { VerificationError, equalBytes, subtle, toHex } from '@ccinfer/core';
import { bs, decodeDer, readOctets, readOid, sequence, type DerNode } from '@ccinfer/core/internal';
import {
  importVerifyKey,
  parseCertificates,
  spkiInfo,
  verifyChain,
  type Certificate,
  type ChainCache,
  type ChainResult,
  type TrustAnchor,
} from '../x509/index.js';
import { GpuInfo, type DeviceKind, type NvidiaReport } from './parse.js';

/** nvtrust `MAX_CERT_CHAIN_LENGTH`: leaf (FMC alias), BROM, Provisioner ICA, Identity, Device Identity CA. */
export const DEVICE_CHAIN_LENGTH = 5;

/** TCG DICE: 2.23.133.5.4.1 (Hopper / LS10: NVIDIA's {version, alias SPKI, FWID}); .1 Blackwell DiceTcbInfo. */
export const OID_NV_FWID = '2.23.133.5.4.1';
export const OID_DICE_TCB_INFO_NV = '2.23.133.5.4.1.1';
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';

export type Arch = 'hopper' | 'blackwell' | 'ls10';
export type Chip = 'GH100' | 'GB100' | 'GB20X' | 'LS10';

export interface DeviceIdentity {
  kind: DeviceKind;
  arch: Arch;
  chip: Chip;
}

/**
 * The device type, from the leaf's subject CN ("GH100 A01 GSP FMC LF", "GB100 A01 GSP FMC LF",
 * "GB20X A01 GSP FMC LF", "LS_10 A01 FSP FMC LF"). The CN is trustworthy once the chain verifies.
 */
export function identifyDevice(leaf: Certificate): DeviceIdentity {
  const cn = leaf.subject.cn ?? '';
  const m = /^(GH100|GB100|GB20X|LS_10) [A-Z0-9]+ (GSP|FSP) /.exec(cn);
  if (!m) throw new VerificationError('ERR_NV_ARCH_UNKNOWN', `leaf certificate "${cn}" is not an NVIDIA GPU or NVSwitch attestation key`);
  const chip = m[1] === 'LS_10' ? 'LS10' : (m[1] as Chip);
  if ((chip === 'LS10') !== (m[2] === 'FSP')) throw new VerificationError('ERR_NV_ARCH_UNKNOWN', `leaf certificate "${cn}" is inconsistent`);
  return { kind: chip === 'LS10' ? 'switch' : 'gpu', arch: chip === 'GH100' ? 'hopper' : chip === 'LS10' ? 'ls10' : 'blackwell', chip };
}

/** The report's GPU_INFO (opaque type 4) must name the same chip as the certificate. */
export function checkArch(report: NvidiaReport, id: DeviceIdentity): void {
  if (id.kind === 'switch') {
    if (report.kind !== 'switch') throw new VerificationError('ERR_NV_ARCH_MISMATCH', 'GPU report with an NVSwitch certificate');
    return;
  }
  const want = GpuInfo[id.chip as 'GH100' | 'GB100' | 'GB20X'];
  const got = report.response.opaque.gpuInfo;
  if (got !== want) {
    throw new VerificationError('ERR_NV_ARCH_MISMATCH', `GPU_INFO 0x${(got ?? 0).toString(16)} does not match a ${id.chip} certificate`);
  }
}

export function parseDeviceChain(certChain: Uint8Array | string): Certificate[] {
  return parseCertificates(certChain);
}

/** Exactly five certificates, leaf first, to a pinned NVIDIA Device Identity CA (SPKI SHA-256). */
export async function verifyDeviceChain(
  chain: readonly Certificate[],
  opts: { anchors: readonly TrustAnchor[]; now: Date; cache?: ChainCache },
): Promise<ChainResult> {
  if (chain.length !== DEVICE_CHAIN_LENGTH) {
    throw new VerificationError('ERR_NV_CHAIN_LENGTH', `device chain has ${chain.length} certificates, expected ${DEVICE_CHAIN_LENGTH}`);
  }
  const o: Parameters<typeof verifyChain>[1] = { anchors: opts.anchors, now: opts.now };
  if (opts.cache) o.cache = opts.cache;
  return verifyChain(chain, o);
}

/**
 * The FWID (SHA-384 of the attested firmware) in the leaf certificate. Hopper / LS10: extension
 * 2.23.133.5.4.1 = SEQUENCE { INTEGER, SubjectPublicKeyInfo, SEQUENCE { hashAlg, OCTET STRING } }.
 * Blackwell: DiceTcbInfo (TCG DICE Attestation Architecture §6.1.1) with fwids [6] IMPLICIT SEQUENCE OF FWID,
 * of which the first is the firmware hash. Undefined when the leaf carries neither.
 */
export function leafFwid(leaf: Certificate): Uint8Array | undefined {
  const hopper = leaf.extension(OID_NV_FWID);
  const dice = leaf.extension(OID_DICE_TCB_INFO_NV);
  try {
    if (hopper) {
      const items = sequence(decodeDer(hopper.value), 'NVIDIA FWID extension');
      return fwidDigest(items[items.length - 1]);
    }
    if (dice) {
      const fields = sequence(decodeDer(dice.value), 'DiceTcbInfo');
      const fwids = fields.find((f) => f.tag === 0xa6);
      if (!fwids) return undefined;
      return fwidDigest(sequence(fwids, 'fwids', 0xa6)[0]);
    }
  } catch (cause) {
    throw new VerificationError('ERR_NV_FWID_MISSING', `FWID extension of "${leaf.subject.cn ?? ''}" is malformed`, { cause });
  }
  return undefined;
}

function fwidDigest(node: DerNode | undefined): Uint8Array {
  const [alg, digest] = sequence(node, 'FWID');
  if (readOid(alg, 'FWID hashAlg') !== OID_SHA384) throw new VerificationError('ERR_NV_FWID_MISSING', 'FWID is not SHA-384');
  const d = readOctets(digest, 'FWID digest');
  if (d.length !== 48) throw new VerificationError('ERR_NV_FWID_MISSING', 'FWID digest is not 48 bytes');
  return d;
}

/**
 * nvtrust step 3: FWID(report) == FWID(leaf). Reports from before 2024 carry no FWID; then only the
 * certificate's is known and the check is reported as not applicable (returns false). A report FWID with a
 * leaf that has none cannot be bound and is refused.
 */
export function checkFwid(report: NvidiaReport, leaf: Certificate): { checked: boolean; fwid: Uint8Array | undefined } {
  const inReport = report.response.opaque.fwid;
  const inCert = leafFwid(leaf);
  if (!inReport) return { checked: false, fwid: inCert };
  if (!inCert) throw new VerificationError('ERR_NV_FWID_MISSING', 'the report has a FWID but the leaf certificate has none');
  if (!equalBytes(inReport, inCert)) {
    throw new VerificationError('ERR_NV_FWID_MISMATCH', `report FWID ${toHex(inReport)} != certificate FWID ${toHex(inCert)}`);
  }
  return { checked: true, fwid: inReport };
}

/** nvtrust step 5: the SPDM request nonce is the one the caller chose (from its binding scheme). */
export function checkNonce(report: NvidiaReport, expected: Uint8Array): void {
  if (!equalBytes(report.request.nonce, expected)) {
    throw new VerificationError(
      'ERR_NV_NONCE_MISMATCH',
      `report nonce ${toHex(report.request.nonce)} is not the expected ${toHex(expected)}`,
    );
  }
}

/** nvtrust step 7 / DSP0274 1.1 §10.11: ECDSA P-384 SHA-384 over request || response-without-signature. */
export async function verifyReportSignature(report: NvidiaReport, leaf: Certificate): Promise<void> {
  const info = spkiInfo(leaf.spki);
  if (info.curve?.name !== 'P-384') throw new VerificationError('ERR_NV_SIGNATURE_INVALID', 'leaf key is not ECDSA P-384');
  const key = await importVerifyKey(leaf.spki, { kind: 'ecdsa', hash: 'SHA-384' });
  const ok = await subtle().verify({ name: 'ECDSA', hash: 'SHA-384' }, key, bs(report.signature), bs(report.signedBytes));
  if (!ok) throw new VerificationError('ERR_NV_SIGNATURE_INVALID', 'SPDM measurement signature does not verify with the leaf key');
}

/** `ueid` claim (NRAS): the leaf serial number as a decimal string. */
export function ueid(leaf: Certificate): string {
  let x = 0n;
  for (const b of leaf.serialNumber) x = (x << 8n) | BigInt(b);
  return x.toString(10);
}
