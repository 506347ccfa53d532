/**
 * A simulated NVIDIA PKI and evidence with any field values: device chains shaped like the real ones (FMC
 * alias leaf → BROM → Provisioner ICA → Identity → Device Identity CA, with the Hopper FWID extension or the
 * Blackwell DiceTcbInfo), SPDM 1.1 GET_MEASUREMENTS request || response with any blocks and opaque TLVs,
 * RIMs signed with the same enveloped XML-DSig profile, OCSP responses and NRAS detached EATs. The layouts are
 * exactly the real ones; only the keys differ, so verification accepts them only with `sim.anchors`.
 */
import { concat, fromHex, randomBytes, sha256, sha384, toBase64, toHex, utf8, type HashName, type Jwk } from '@ccinfer/core';
import { der, tlv } from '@ccinfer/core/internal';
import { SignJWT, exportJWK } from 'jose';
import type { TrustAnchors } from '../anchors.js';
import { parseCertificate, parseCertificates } from '../x509/index.js';
import { OID_OCSP_BASIC, OID_OCSP_NONCE, certIdFor, CRL_REASONS } from '../nvidia/ocsp.js';
import { GpuInfo, OpaqueType, parseReport } from '../nvidia/parse.js';
import { NS_DSIG, NS_SHA384, NS_SWID, NS_TCG_RIM, driverRimId, driverRimTagId, vbiosRimId } from '../nvidia/rim.js';
import { canonicalize, descendants, parseXml } from '../nvidia/rim-xml.js';
import { OID_DICE_TCB_INFO_NV, OID_NV_FWID, identifyDevice, type Chip } from '../nvidia/verify.js';
import { generateKey, mintCertificate, name, sign, toPem, type KeyPair } from './x509.js';

const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
const KU_DIGITAL_SIGNATURE = { oid: '2.5.29.15', critical: true, value: der.bits(Uint8Array.of(0x80), 7) };

export interface Ca {
  key: KeyPair;
  der: Uint8Array;
  name: string;
}

export interface SimulatedNvidia {
  /** Device Identity CA + RIM root, flagged simulated. */
  anchors: Pick<TrustAnchors, 'nvidiaDevice' | 'nvidiaRim' | 'simulated'>;
  deviceRoot: Ca;
  identity: Ca;
  provisioner: Ca;
  rimRoot: Ca;
  rimCa: Ca;
  rimSigner: Ca;
  /** Issuer key for any certificate minted here (for OCSP responses signed by the CA). */
  keyOf(certDer: Uint8Array): KeyPair | undefined;
}

async function ca(subject: string, issuer: Ca | undefined, opts: { notBefore?: Date; notAfter?: Date; serial?: number } = {}): Promise<Ca> {
  const key = await generateKey('P-384');
  const cert = await mintCertificate({
    subject,
    issuer: issuer?.name ?? subject,
    publicKey: key,
    signer: issuer?.key ?? key,
    ca: true,
    serial: opts.serial ?? 0x1000 + Math.floor(Math.random() * 0xffff),
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
  });
  return { key, der: cert, name: subject };
}

export async function createSimulatedNvidia(): Promise<SimulatedNvidia> {
  const deviceRoot = await ca('SIMULATED NVIDIA Device Identity CA', undefined);
  const identity = await ca('SIMULATED NVIDIA GH100 Identity', deviceRoot);
  const provisioner = await ca('SIMULATED NVIDIA GH100 Provisioner ICA 1', identity);
  const rimRoot = await ca('SIMULATED NVIDIA CoRIM signing Root CA', undefined);
  const rimCa = await ca('SIMULATED NVIDIA Reference Value GH100 CA', rimRoot);
  const rimSigner = await leafCa('SIMULATED HCC RIM L4 Signer', rimCa);
  return simulatedNvidiaFrom({ deviceRoot, identity, provisioner, rimRoot, rimCa, rimSigner });
}

/** The CAs that make a simulated NVIDIA hierarchy (what a saved hierarchy holds, state.ts). */
export type SimulatedNvidiaParts = Pick<SimulatedNvidia, 'deviceRoot' | 'identity' | 'provisioner' | 'rimRoot' | 'rimCa' | 'rimSigner'>;

/** A simulated NVIDIA hierarchy around existing CAs (minted above, or loaded from a saved one). */
export async function simulatedNvidiaFrom(parts: SimulatedNvidiaParts): Promise<SimulatedNvidia> {
  const { deviceRoot, identity, provisioner, rimRoot, rimCa, rimSigner } = parts;
  const keys = new Map<string, KeyPair>();
  for (const c of [deviceRoot, identity, provisioner, rimRoot, rimCa, rimSigner]) keys.set(toHex(c.der), c.key);
  const spki = async (c: Ca): Promise<string> => toHex(await sha256(parseCertificate(c.der).spki));
  return {
    anchors: {
      nvidiaDevice: [{ name: deviceRoot.name, spkiSha256: await spki(deviceRoot) }],
      nvidiaRim: [{ name: rimRoot.name, spkiSha256: await spki(rimRoot) }],
      simulated: true,
    },
    deviceRoot,
    identity,
    provisioner,
    rimRoot,
    rimCa,
    rimSigner,
    keyOf: (d) => keys.get(toHex(d)),
  };
}

async function leafCa(subject: string, issuer: Ca, notAfter?: Date): Promise<Ca> {
  const key = await generateKey('P-384');
  const cert = await mintCertificate({ subject, issuer: issuer.name, publicKey: key, signer: issuer.key, serial: 77, extensions: [KU_DIGITAL_SIGNATURE], ...(notAfter ? { notAfter } : {}) });
  return { key, der: cert, name: subject };
}

// ---------------------------------------------------------------------------------------------------------
// Device chains

export interface DeviceSpec {
  chip?: Chip;
  /** FWID in the leaf certificate; `null` = no FWID extension. Default 48 × 0x11. */
  fwid?: Uint8Array | null;
  /** The device PDI (8 bytes), carried in the BROM certificate serial after a one-byte tag. */
  pdi?: Uint8Array;
  /** Leaf serial (ueid). Default random, so every minted device has its own UEID as real ones do. */
  leafSerial?: bigint;
  /** Drop or add certificates to test the exact-length rule. */
  chainLength?: number;
  leafSubject?: string;
  /** SubjectPublicKeyInfo certified in the leaf instead of the leaf key's (an invalid key, for example). */
  leafPublicKey?: Uint8Array;
}

export interface MintedDevice {
  chip: Chip;
  leafKey: KeyPair;
  /** DER certificates, leaf first. */
  certs: Uint8Array[];
  certChainPem: string;
}

const CN: Record<Chip, { prefix: string; proc: string }> = {
  GH100: { prefix: 'GH100', proc: 'GSP' },
  GB100: { prefix: 'GB100', proc: 'GSP' },
  GB20X: { prefix: 'GB20X', proc: 'GSP' },
  LS10: { prefix: 'LS_10', proc: 'FSP' },
};

export async function mintDevice(sim: SimulatedNvidia, spec: DeviceSpec = {}): Promise<MintedDevice> {
  const chip = spec.chip ?? 'GH100';
  const { prefix, proc } = CN[chip];
  const bromKey = await generateKey('P-384');
  const leafKey = await generateKey('P-384');
  const pdi = spec.pdi ?? randomBytes(8);
  const bromName = `${prefix} A01 ${proc} BROM`;
  const brom = await mintCertificate({
    subject: bromName,
    issuer: sim.provisioner.name,
    publicKey: bromKey,
    signer: sim.provisioner.key,
    ca: true,
    serial: concat(Uint8Array.of(chip === 'LS10' ? 0x50 : 0x41), pdi),
  });
  const fwid = spec.fwid === undefined ? new Uint8Array(48).fill(0x11) : spec.fwid;
  const extensions = [KU_DIGITAL_SIGNATURE];
  if (fwid) {
    const fwidSeq = der.seq(der.oid(OID_SHA384), der.octets(fwid));
    if (chip === 'GB100' || chip === 'GB20X') {
      // TCG DiceTcbInfo: vendor [0], model [1], fwids [6] IMPLICIT SEQUENCE OF FWID.
      extensions.push({
        oid: OID_DICE_TCB_INFO_NV,
        critical: false,
        value: der.seq(tlv(0x80, utf8('NVIDIA')), tlv(0x81, utf8(`${prefix} A01 GSP`)), tlv(0xa6, concat(fwidSeq, der.seq(der.oid(OID_SHA384), der.octets(new Uint8Array(48)))))),
      });
    } else {
      extensions.push({ oid: OID_NV_FWID, critical: false, value: der.seq(der.int(1), spec.leafPublicKey ?? leafKey.spki, fwidSeq) });
    }
  }
  const leaf = await mintCertificate({
    subject: spec.leafSubject ?? `${prefix} A01 ${proc} FMC LF`,
    issuer: bromName,
    publicKey: spec.leafPublicKey ?? leafKey,
    signer: bromKey,
    serial: spec.leafSerial ?? concat(Uint8Array.of(0x50), randomBytes(19)),
    extensions,
  });
  let certs = [leaf, brom, sim.provisioner.der, sim.identity.der, sim.deviceRoot.der];
  if (spec.chainLength !== undefined) certs = spec.chainLength < 5 ? certs.slice(0, spec.chainLength) : [...certs, ...Array(spec.chainLength - 5).fill(sim.deviceRoot.der)];
  return { chip, leafKey, certs, certChainPem: toPem(certs) };
}

// ---------------------------------------------------------------------------------------------------------
// SPDM reports

export interface OpaqueFieldSpec {
  type: number;
  value: Uint8Array;
}

export interface SpdmReportSpec {
  nonce: Uint8Array;
  /** Measurement values (SPDM index i + 1). Default 64 (GPU) / 31 (switch) SHA-384-sized values. */
  blocks?: Uint8Array[];
  opaque: OpaqueFieldSpec[];
  responderNonce?: Uint8Array;
  signer: KeyPair;
  /** Override header bytes. */
  requestVersion?: number;
  requestParam1?: number;
  requestParam2?: number;
  measurementSpecification?: number;
  /** Bytes appended after the signature. */
  trailing?: Uint8Array;
  /** Mutates the signed bytes after signing (to mint an invalid signature). */
  tamper?: (signed: Uint8Array) => void;
}

export function defaultBlocks(n: number, seed = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new Uint8Array(48).fill((i * 7 + seed + 1) & 0xff));
}

export async function mintSpdmReport(spec: SpdmReportSpec): Promise<Uint8Array> {
  const blocks = spec.blocks ?? defaultBlocks(64);
  const request = concat(Uint8Array.of(spec.requestVersion ?? 0x11, 0xe0, spec.requestParam1 ?? 0x01, spec.requestParam2 ?? 0xff), spec.nonce, Uint8Array.of(0));
  const record = concat(
    ...blocks.map((v, i) => {
      const size = v.length + 3;
      return concat(Uint8Array.of(i + 1, spec.measurementSpecification ?? 0x01, size & 0xff, size >> 8, 0x01, v.length & 0xff, v.length >> 8), v);
    }),
  );
  const opaque = concat(...spec.opaque.map((f) => concat(Uint8Array.of(f.type & 0xff, f.type >> 8, f.value.length & 0xff, f.value.length >> 8), f.value)));
  const responderNonce = spec.responderNonce ?? new Uint8Array(32).fill(0x5a);
  const signed = concat(
    request,
    Uint8Array.of(0x11, 0x60, 0, 0, blocks.length, record.length & 0xff, (record.length >> 8) & 0xff, record.length >> 16),
    record,
    responderNonce,
    Uint8Array.of(opaque.length & 0xff, opaque.length >> 8),
    opaque,
  );
  const signature = await sign(spec.signer, 'ecdsa-sha384', signed, true);
  spec.tamper?.(signed);
  return concat(signed, signature, spec.trailing ?? new Uint8Array(0));
}

const ascii = (s: string, pad = 1): Uint8Array => concat(utf8(s), new Uint8Array(pad));
const u16 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, n >> 8);

/** "96.00.9F.00.01" → the 8 bytes GPUs send (printed as b3.b2.b1.b0.b4). */
export function encodeVbiosVersion(v: string): Uint8Array {
  const [b3, b2, b1, b0, b4] = v.split('.').map((x) => parseInt(x, 16));
  return Uint8Array.of(b0!, b1!, b2!, b3!, b4!, 0, 0, 0);
}

export interface GpuOpaqueSpec {
  chip?: Exclude<Chip, 'LS10'>;
  /**
   * Upper 32 bits of the 8-byte GPU_INFO (the lower 32 are the chip's architecture id). Default 0; the
   * RTX PRO 6000 Blackwell Server Edition (GB202) sends 2: `0x00000002_000001b0`.
   */
  gpuInfoHigh?: number;
  driverVersion?: string;
  vbiosVersion?: string;
  project?: string;
  projectSku?: string;
  chipSku?: string;
  chipInfo?: string;
  fwid?: Uint8Array | null;
  nvdec0?: number;
  featureFlag?: number;
  protectedPcie?: number;
  /** 18 NVLink peer PDIs as sent (little-endian). */
  switchPdis?: Uint8Array[];
  extra?: OpaqueFieldSpec[];
}

export function gpuOpaque(s: GpuOpaqueSpec = {}): OpaqueFieldSpec[] {
  const T = OpaqueType;
  const chip = s.chip ?? 'GH100';
  const info = new Uint8Array(8);
  new DataView(info.buffer).setUint32(0, GpuInfo[chip], true);
  new DataView(info.buffer).setUint32(4, s.gpuInfoHigh ?? 0, true);
  const f: OpaqueFieldSpec[] = [
    { type: T.VBIOS_VERSION, value: encodeVbiosVersion(s.vbiosVersion ?? '96.00.9F.00.01') },
    { type: T.CHIP_SKU, value: ascii(s.chipSku ?? '882') },
    { type: T.PROJECT, value: ascii(s.project ?? '1010') },
    { type: T.PROJECT_SKU, value: ascii(s.projectSku ?? '0200') },
    { type: T.DRIVER_VERSION, value: ascii(s.driverVersion ?? '550.90.07') },
    { type: T.GPU_INFO, value: info },
    { type: T.NVDEC0_STATUS, value: Uint8Array.of(s.nvdec0 ?? 0x55) },
  ];
  if (s.fwid !== null) f.push({ type: T.FWID, value: s.fwid ?? new Uint8Array(48).fill(0x11) });
  if (s.protectedPcie !== undefined) f.push({ type: T.PROTECTED_PCIE_STATUS, value: Uint8Array.of(s.protectedPcie) });
  if (s.switchPdis) f.push({ type: T.PDI, value: concat(...s.switchPdis) });
  if (s.chipInfo) f.push({ type: T.CHIP_INFO, value: ascii(s.chipInfo) });
  f.push({ type: T.OPAQUE_DATA_VERSION, value: u16(1) }, { type: T.FEATURE_FLAG, value: u16(s.featureFlag ?? 0) });
  return [...f, ...(s.extra ?? [])];
}

export interface SwitchOpaqueSpec {
  biosVersion?: string;
  devicePdi: Uint8Array;
  gpuPdis: Uint8Array[];
  extra?: OpaqueFieldSpec[];
}

export function switchOpaque(s: SwitchOpaqueSpec): OpaqueFieldSpec[] {
  const T = OpaqueType;
  return [
    { type: T.VBIOS_VERSION, value: utf8(s.biosVersion ?? '96.10.55.00.01') },
    { type: T.PDI, value: s.devicePdi },
    { type: T.SWITCH_GPU_PDIS, value: concat(...s.gpuPdis, new Uint8Array(64).fill(0xff)) },
    { type: T.SWITCH_LOCK_STATUS, value: u16(1) },
    ...(s.extra ?? []),
  ];
}

export interface MintedGpuEvidence {
  report: Uint8Array;
  certChain: string;
  device: MintedDevice;
  blocks: Uint8Array[];
}

/**
 * A complete GPU (or switch, with `chip: 'LS10'` and `opaque`) evidence with defaults for every field.
 * `minted` reuses a device minted before: a second, fresh report from the same GPU.
 */
export async function mintGpuEvidence(
  sim: SimulatedNvidia,
  o: { nonce: Uint8Array; device?: DeviceSpec; minted?: MintedDevice; opaque?: OpaqueFieldSpec[]; gpu?: GpuOpaqueSpec; blocks?: Uint8Array[]; report?: Partial<SpdmReportSpec> },
): Promise<MintedGpuEvidence> {
  const device = o.minted ?? (await mintDevice(sim, o.device));
  const blocks = o.blocks ?? defaultBlocks(device.chip === 'LS10' ? 31 : 64);
  const chip = device.chip === 'LS10' ? 'GH100' : device.chip;
  const opaque = o.opaque ?? gpuOpaque({ chip, ...o.gpu });
  const report = await mintSpdmReport({ nonce: o.nonce, blocks, opaque, signer: device.leafKey, ...o.report });
  return { report, certChain: device.certChainPem, device, blocks };
}

// ---------------------------------------------------------------------------------------------------------
// RIMs

export interface RimSpec {
  version: string;
  product?: string;
  edition?: string;
  /** SoftwareIdentity@name. Default `product`. */
  name?: string;
  /**
   * Driver RIMs get NVIDIA's driver tagId (SHA-384 of "<name>_<version>", see rim.ts `driverRimTagId`), VBIOS
   * RIMs another one. Default: driver when `version` looks like a driver version (`550.90.07`).
   */
  kind?: 'driver' | 'vbios';
  tagId?: string;
  /** Resources; `alternatives` hex-free bytes. */
  measurements: { index: number; active: boolean; alternatives: Uint8Array[] }[];
  /** Signer chain (leaf first, root last). Default sim.rimSigner → rimCa → rimRoot. */
  chain?: Ca[];
  /** Edits the signed XML text (to mint tampered RIMs). */
  tamper?: (xml: string) => string;
  /** Edits the SignatureValue bytes. */
  tamperSignature?: (sig: Uint8Array) => void;
}

/** Builds a TCG/SWID RIM with the enveloped XML-DSig profile NVIDIA uses (C14N 1.1, ECDSA-SHA384). */
export async function mintRim(sim: SimulatedNvidia, spec: RimSpec): Promise<string> {
  const chain = spec.chain ?? [sim.rimSigner, sim.rimCa, sim.rimRoot];
  const name = spec.name ?? spec.product ?? 'GH100';
  const kind = spec.kind ?? (/^\d+\.\d+(\.\d+)?$/.test(spec.version) ? 'driver' : 'vbios');
  const tagId = spec.tagId ?? (kind === 'driver' ? await driverRimTagId(name, spec.version) : `sim-vbios-${name}-${spec.version}`);
  const resources = spec.measurements
    .map(
      (m) =>
        `        <ns0:Resource type="Measurement" index="${m.index}" active="${m.active ? 'True' : 'False'}" alternatives="${m.alternatives.length}" ` +
        m.alternatives.map((h, k) => `ns2:Hash${k}="${toHex(h)}"`).join(' ') +
        ` name="Measurement_${m.index}" size="${m.alternatives[0]?.length ?? 48}"/>\n`,
    )
    .join('');
  const body =
    `<SoftwareIdentity xmlns="${NS_SWID}" xmlns:ns0="${NS_SWID}" xmlns:ns2="${NS_SHA384}" corpus="false" name="${name}" patch="false" supplemental="false" tagId="${tagId}" version="1.0" tagVersion="0">\n` +
    `    <ns0:Entity name="NVIDIA Corporation" role="softwareCreator tagCreator"/>\n` +
    `    <ns0:Meta xmlns:ns1="${NS_TCG_RIM}" colloquialVersion="${spec.version}" edition="${spec.edition ?? 'GPU'}" product="${spec.product ?? 'GH100'}" revision="r1" PayloadType="direct" ns1:FirmwareManufacturerId="5703"/>\n` +
    `    <ns0:Payload>\n${resources}    </ns0:Payload>\n`;
  const sigTemplate = (digest: string, value: string): string =>
    `<ds:Signature xmlns:ds="${NS_DSIG}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"/><ds:Reference URI=""><ds:Transforms>` +
    `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>` +
    `</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384"/><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
    `<ds:SignatureValue>${value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>` +
    chain.map((c) => `<ds:X509Certificate>${toBase64(c.der)}</ds:X509Certificate>`).join('') +
    `</ds:X509Data></ds:KeyInfo></ds:Signature>`;
  const doc = (d: string, v: string): string => `${body}${sigTemplate(d, v)}</SoftwareIdentity>`;
  const isSig = (e: { ns: string; local: string }): boolean => e.ns === NS_DSIG && e.local === 'Signature';
  const root0 = parseXml(doc('', ''), 'ERR_NV_RIM_MALFORMED');
  const digest = toBase64(await sha384(utf8(canonicalize(root0, isSig))));
  const root1 = parseXml(doc(digest, ''), 'ERR_NV_RIM_MALFORMED');
  const signedInfo = [...descendants(root1)].find((e) => e.ns === NS_DSIG && e.local === 'SignedInfo')!;
  const sig = await sign(chain[0]!.key, 'ecdsa-sha384', utf8(canonicalize(signedInfo)), true);
  spec.tamperSignature?.(sig);
  const xml = doc(digest, toBase64(sig));
  return spec.tamper ? spec.tamper(xml) : xml;
}

/** A RIM whose active entries are exactly `indices`, with the values of `blocks` (block i+1 = index i). */
export function rimMeasurementsFrom(blocks: Uint8Array[], active: readonly number[], total = 64): RimSpec['measurements'] {
  return Array.from({ length: total }, (_, i) => ({ index: i, active: active.includes(i), alternatives: [blocks[i] ?? new Uint8Array(48)] }));
}

export { leafCa as mintRimSigner, ca as mintCa };
export type { Ca as SimulatedCa };

// ---------------------------------------------------------------------------------------------------------
// OCSP

export interface OcspResponseSpec {
  /** DER of the certificate the response is about and of its issuer. */
  cert: Uint8Array;
  issuer: Uint8Array;
  /** Signer; default the issuer's key (sim.keyOf). */
  signer?: KeyPair;
  /** Responder certificate to include (delegated responder). */
  responderCert?: Uint8Array;
  status?: 'good' | 'revoked' | 'unknown';
  reason?: (typeof CRL_REASONS)[number];
  thisUpdate: Date;
  nextUpdate?: Date;
  /** ResponseData.producedAt. Default `thisUpdate`. */
  producedAt?: Date;
  nonce?: Uint8Array;
  hash?: HashName;
  responseStatus?: number;
  tamper?: (tbs: Uint8Array) => Uint8Array;
}

export async function mintOcspResponse(sim: SimulatedNvidia, s: OcspResponseSpec): Promise<Uint8Array> {
  if ((s.responseStatus ?? 0) !== 0) return der.seq(der.enumerated(s.responseStatus!));
  const cert = parseCertificate(s.cert);
  const issuer = parseCertificate(s.issuer);
  const signer = s.signer ?? sim.keyOf(s.issuer);
  if (!signer) throw new Error('no key for the OCSP signer');
  const id = await certIdFor(cert, issuer, s.hash ?? 'SHA-384');
  const hashOid = { 'SHA-1': '1.3.14.3.2.26', 'SHA-256': '2.16.840.1.101.3.4.2.1', 'SHA-384': OID_SHA384, 'SHA-512': '2.16.840.1.101.3.4.2.3' }[id.hash];
  const certId = der.seq(der.seq(der.oid(hashOid), der.null()), der.octets(id.issuerNameHash), der.octets(id.issuerKeyHash), der.int(id.serialNumber));
  const status = s.status ?? 'good';
  const certStatus =
    status === 'good'
      ? Uint8Array.of(0x80, 0)
      : status === 'unknown'
        ? Uint8Array.of(0x82, 0)
        : tlv(0xa1, concat(der.generalizedTime(s.thisUpdate), ...(s.reason ? [der.ctx(0, der.enumerated(CRL_REASONS.indexOf(s.reason)))] : [])));
  const single = der.seq(certId, certStatus, der.generalizedTime(s.thisUpdate), ...(s.nextUpdate ? [der.ctx(0, der.generalizedTime(s.nextUpdate))] : []));
  const responder = s.responderCert ? parseCertificate(s.responderCert).subject.raw : issuer.subject.raw;
  let tbs = der.seq(
    der.ctx(1, responder),
    der.generalizedTime(s.producedAt ?? s.thisUpdate),
    der.seq(single),
    ...(s.nonce ? [der.ctx(1, der.seq(der.seq(der.oid(OID_OCSP_NONCE), der.octets(der.octets(s.nonce)))))] : []),
  );
  const sig = await sign(signer, 'ecdsa-sha384', tbs);
  if (s.tamper) tbs = s.tamper(tbs);
  const alg = der.seq(der.oid('1.2.840.10045.4.3.3'));
  const basic = der.seq(tbs, alg, der.bits(sig), ...(s.responderCert ? [der.ctx(0, der.seq(s.responderCert))] : []));
  return der.seq(der.enumerated(0), der.ctx(0, der.seq(der.oid(OID_OCSP_BASIC), der.octets(basic))));
}

// ---------------------------------------------------------------------------------------------------------
// NRAS detached EATs

export interface SimulatedNras {
  key: KeyPair;
  kid: string;
  jwks: { keys: Jwk[] };
}

export async function createSimulatedNras(kid = 'nv-eat-kid-sim-0001'): Promise<SimulatedNras> {
  const key = await generateKey('P-384');
  const jwk = await exportJWK(key.publicKey);
  return { key, kid, jwks: { keys: [{ ...jwk, kid, alg: 'ES384' }] } };
}

export interface NrasTokenSpec {
  nonce: Uint8Array;
  iat: Date;
  ttlSeconds?: number;
  issuer?: string;
  overallResult?: boolean;
  /** Device claims per submod ("GPU-0", …). */
  devices: Record<string, Record<string, unknown>>;
  /** Override the digest of one submod, or add one without a token. */
  submodsOverride?: Record<string, unknown>;
  /** Sign with another key (invalid signature) or kid. */
  signer?: SimulatedNras;
  kid?: string;
}

/** `[["JWT", overall], {"GPU-0": jwt, …}]` as NRAS returns it, ES384 signed. */
export async function mintNrasToken(nras: SimulatedNras, s: NrasTokenSpec): Promise<string> {
  const signer = s.signer ?? nras;
  const iat = Math.floor(s.iat.getTime() / 1000);
  const exp = iat + (s.ttlSeconds ?? 3600);
  const iss = s.issuer ?? 'https://nras.attestation.nvidia.com';
  const jwt = (claims: Record<string, unknown>): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES384', kid: s.kid ?? nras.kid })
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setIssuer(iss)
      .sign(signer.key.privateKey);
  const devices: Record<string, string> = {};
  const submods: Record<string, unknown> = {};
  for (const [k, claims] of Object.entries(s.devices)) {
    devices[k] = await jwt({ ...claims, eat_nonce: toHex(s.nonce) });
    submods[k] = ['DIGEST', ['SHA-256', toHex(await sha256(utf8(devices[k]!)))]];
  }
  Object.assign(submods, s.submodsOverride ?? {});
  const overall = await jwt({
    sub: 'NVIDIA-PLATFORM-ATTESTATION',
    'x-nvidia-ver': '2.0',
    'x-nvidia-overall-att-result': s.overallResult ?? true,
    eat_nonce: toHex(s.nonce),
    submods,
    jti: 'sim',
  });
  return JSON.stringify([['JWT', overall], devices]);
}

// ---------------------------------------------------------------------------------------------------------
// The collateral a pod attaches for its devices (docs/wire-protocol.md "Evidence bundle" `collateral.nvidia`)

/** RIM indices each RIM owns on Hopper (docs/checks.md, `gpu<i>.measurements`): disjoint, as the golden comparison requires. */
export const GPU_DRIVER_RIM_INDICES: readonly number[] = [7, ...Array.from({ length: 21 }, (_, i) => 21 + i)];
export const GPU_VBIOS_RIM_INDICES: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12];

export interface NvidiaCollateralSpec {
  /** OCSP responses are produced an hour before and valid until a day after this time. Default: now. */
  now?: Date;
  /** Leave out the RIMs or the OCSP responses (pods that carry less, for negative tests). */
  rims?: boolean;
  ocsp?: boolean;
}

export interface NvidiaCollateral {
  /** RIM id (as `driverRimId` / `vbiosRimId` name it from the report) → RIM XML. */
  rims: Map<string, Uint8Array>;
  /** One response per certificate of the device chains (leaf and root excepted) and RIM signer chains (root excepted). */
  ocsp: Uint8Array[];
}

interface RimPlan {
  version: string;
  product: string;
  edition: string;
  active: readonly number[];
  total: number;
  /** Index → distinct golden values (hex) seen on the devices this RIM describes. */
  values: Map<number, Set<string>>;
}

const rimMemo = new WeakMap<SimulatedNvidia, Map<string, Promise<string>>>();

/** RIMs are a pure function of their content: minted once per simulated hierarchy. */
function memoRim(sim: SimulatedNvidia, spec: RimSpec): Promise<string> {
  let m = rimMemo.get(sim);
  if (!m) rimMemo.set(sim, (m = new Map()));
  const key = JSON.stringify({ ...spec, measurements: spec.measurements.map((x) => [x.index, x.active, x.alternatives.map(toHex)]) });
  let rim = m.get(key);
  if (!rim) {
    rim = mintRim(sim, spec);
    rim.catch(() => m.delete(key));
    m.set(key, rim);
  }
  return rim;
}

/**
 * What a gateway on real hardware attaches so that a client needs neither the RIM service nor the OCSP
 * responder: for each device, its driver and VBIOS RIMs (named from the report exactly as the verifier names
 * them, golden values = the device's own measurement blocks, signed by the simulated RIM signer), and an OCSP
 * response (no nonce: it is gathered before any client asks) for every certificate the verifier checks —
 * device chain minus leaf and root, RIM signer chain minus root.
 */
export async function mintNvidiaCollateral(
  sim: SimulatedNvidia,
  devices: readonly { report: Uint8Array; certChain: Uint8Array | string }[],
  spec: NvidiaCollateralSpec = {},
): Promise<NvidiaCollateral> {
  const plans = new Map<string, RimPlan>();
  const pairs = new Map<string, [cert: Uint8Array, issuer: Uint8Array]>();
  const rimChain = [sim.rimSigner.der, sim.rimCa.der, sim.rimRoot.der];
  for (const d of devices) {
    const chain = parseCertificates(d.certChain);
    const id = identifyDevice(chain[0]!);
    const report = parseReport(d.report, id.kind);
    const o = report.response.opaque;
    const blocks = report.response.blocks;
    const plan = (rimId: string | undefined, version: string | undefined, active: readonly number[], edition: string): void => {
      if (!rimId || !version) return;
      let p = plans.get(rimId);
      if (!p) plans.set(rimId, (p = { version, product: id.chip, edition, active, total: blocks.length, values: new Map() }));
      for (const i of active) {
        const b = blocks.find((x) => x.index === i + 1);
        if (b) (p.values.get(i) ?? p.values.set(i, new Set()).get(i)!).add(toHex(b.value));
      }
    };
    if (id.kind === 'gpu') {
      plan(driverRimId(report, id), o.driverVersion, GPU_DRIVER_RIM_INDICES, 'GPU');
      plan(vbiosRimId(report, id), o.vbiosVersion, GPU_VBIOS_RIM_INDICES, 'GPU');
    } else {
      plan(vbiosRimId(report, id), o.vbiosVersion, blocks.map((b) => b.index - 1), 'SWITCH');
    }
    for (let i = 1; i < chain.length - 1; i++) pairs.set(toHex(chain[i]!.raw), [chain[i]!.raw, chain[i + 1]!.raw]);
  }
  for (let i = 0; i < rimChain.length - 1; i++) pairs.set(toHex(rimChain[i]!), [rimChain[i]!, rimChain[i + 1]!]);

  const rims = new Map<string, Uint8Array>();
  if (spec.rims !== false) {
    const minted = await Promise.all(
      [...plans].map(async ([rimId, p]) => {
        const measurements = Array.from({ length: p.total }, (_, i) => {
          const alternatives = [...(p.values.get(i) ?? [])].map((h) => fromHex(h));
          return { index: i, active: p.active.includes(i) && alternatives.length > 0, alternatives: alternatives.length ? alternatives : [new Uint8Array(48)] };
        });
        return [rimId, utf8(await memoRim(sim, { version: p.version, product: p.product, edition: p.edition, measurements }))] as const;
      }),
    );
    for (const [k, v] of minted) rims.set(k, v);
  }
  let ocsp: Uint8Array[] = [];
  if (spec.ocsp !== false) {
    const now = spec.now ?? new Date();
    const thisUpdate = new Date(now.getTime() - 3_600_000);
    const nextUpdate = new Date(now.getTime() + 86_400_000);
    ocsp = await Promise.all([...pairs.values()].map(([cert, issuer]) => mintOcspResponse(sim, { cert, issuer, thisUpdate, nextUpdate })));
  }
  return { rims, ocsp };
}

export { name as x509Name };
