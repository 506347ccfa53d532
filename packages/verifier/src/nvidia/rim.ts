/**
 * NVIDIA Reference Integrity Manifests: TCG RIM-IM carried as an ISO/IEC 19770-2:2015 SWID tag, signed with
 * an enveloped XML-DSig (C14N 1.1, ECDSA-SHA384, Reference URI=""), and the golden-measurement comparison
 * (nvtrust local verifier steps 8–11, docs/checks.md "NVIDIA GPU and NVSwitch").
 *
 * What is compared is read from the same parsed tree that was canonicalized and digested, so the values used
 * are exactly the signed values. Signature wrapping is excluded by shape: exactly one ds:Signature, a direct
 * child of the document element, with one Reference to the whole document and exactly the two transforms
 * NVIDIA uses.
 */
import {
  CollateralError,
  ParseError,
  PolicyError,
  VerificationError,
  equalBytes,
  fromBase64,
  fromHex,
  fromUtf8,
  sha384,
  subtle,
  toBase64,
  toHex,
  utf8,
} from '@ccinfer/core';
import { bs } from '@ccinfer/core/internal';
import {
  importVerifyKey,
  parseCertificate,
  spkiInfo,
  verifyChain,
  type Certificate,
  type ChainCache,
  type ChainResult,
  type TrustAnchor,
} from '../x509/index.js';
import { STATUS_DISABLED, type NvidiaReport } from './parse.js';
import { attr, canonicalize, childElements, descendants, parseXml, textOf, type XmlElement } from './rim-xml.js';
import type { DeviceIdentity } from './verify.js';

export const NS_SWID = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd';
export const NS_TCG_RIM = 'https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/';
export const NS_SHA384 = 'http://www.w3.org/2001/04/xmlenc#sha384';
export const NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ALG_C14N11 = 'http://www.w3.org/2006/12/xml-c14n11';
const ALG_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const ALG_ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384';
const ALG_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#sha384';

const BAD = 'ERR_NV_RIM_MALFORMED';

export interface RimMeasurement {
  /** RIM index N describes SPDM measurement block N + 1. */
  index: number;
  active: boolean;
  name: string;
  size: number;
  /** Hash0 .. Hash{alternatives-1}: any one of them matches. */
  alternatives: Uint8Array[];
}

export interface Rim {
  tagId: string;
  /** SoftwareIdentity@name, e.g. "GH100" or "LS10". */
  name: string;
  version: string;
  colloquialVersion: string;
  product: string | undefined;
  edition: string | undefined;
  /** Meta@ns1:FirmwareManufacturerId (the `oemid` claim, "5703" for NVIDIA). */
  firmwareManufacturerId: string | undefined;
  measurements: RimMeasurement[];
  /** SHA-256 of the document bytes (the RIM service publishes it). */
  sha256: string;
  signature: RimSignature;
}

interface RimSignature {
  root: XmlElement;
  element: XmlElement;
  signedInfo: XmlElement;
  digestValue: Uint8Array;
  signatureValue: Uint8Array;
  certificates: Certificate[];
}

function bad(msg: string): never {
  throw new ParseError(BAD, `RIM: ${msg}`);
}

function one(parent: XmlElement, ns: string, local: string): XmlElement {
  const found = childElements(parent, ns, local);
  if (found.length !== 1) bad(`expected exactly one ${local} in ${parent.local}, found ${found.length}`);
  return found[0]!;
}

function need(el: XmlElement, name: string, ns = ''): string {
  const v = attr(el, name, ns);
  if (v === undefined) bad(`${el.local} has no ${name}`);
  return v!;
}

/** Parses a RIM document (bytes or text). Structure only: no signature or trust decision. */
export async function parseRim(input: Uint8Array | string): Promise<Rim> {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const root = parseXml(typeof input === 'string' ? input : fromUtf8(input, BAD), BAD, { maxBytes: 2 * 1024 * 1024 });
  if (root.ns !== NS_SWID || root.local !== 'SoftwareIdentity') bad('document element is not a SWID SoftwareIdentity');

  const meta = one(root, NS_SWID, 'Meta');
  const payload = one(root, NS_SWID, 'Payload');
  const measurements: RimMeasurement[] = [];
  const seen = new Set<number>();
  for (const r of childElements(payload)) {
    if (r.ns !== NS_SWID || r.local !== 'Resource') bad(`unexpected ${r.local} in Payload`);
    if (attr(r, 'type') !== 'Measurement') bad('Resource type is not Measurement');
    const index = int(need(r, 'index'), 'index');
    if (seen.has(index)) bad(`index ${index} repeated`);
    seen.add(index);
    const activeText = need(r, 'active');
    if (activeText !== 'True' && activeText !== 'False') bad(`index ${index}: active is "${activeText}"`);
    const n = int(need(r, 'alternatives'), 'alternatives');
    const size = int(need(r, 'size'), 'size');
    if (n < 1 || n > 64) bad(`index ${index}: ${n} alternatives`);
    const alternatives: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      const h = need(r, `Hash${k}`, NS_SHA384);
      if (!/^[0-9a-fA-F]*$/.test(h) || h.length !== size * 2) bad(`index ${index}: Hash${k} is not ${size} hex bytes`);
      alternatives.push(fromHex(h, BAD));
    }
    // Any Hash attribute beyond `alternatives` would be ignored by one verifier and used by another: refuse.
    if (r.attrs.some((a) => a.ns === NS_SHA384 && !(/^Hash\d+$/.test(a.local) && Number(a.local.slice(4)) < n))) {
      bad(`index ${index}: hash attributes do not match alternatives=${n}`);
    }
    measurements.push({ index, active: activeText === 'True', name: attr(r, 'name') ?? '', size, alternatives });
  }
  const colloquialVersion = need(meta, 'colloquialVersion');
  return {
    tagId: need(root, 'tagId'),
    name: need(root, 'name'),
    version: need(root, 'version'),
    colloquialVersion,
    product: attr(meta, 'product'),
    edition: attr(meta, 'edition'),
    firmwareManufacturerId: attr(meta, 'FirmwareManufacturerId', NS_TCG_RIM),
    measurements,
    sha256: toHex(new Uint8Array(await subtle().digest('SHA-256', bs(bytes)))),
    signature: parseSignature(root),
  };
}

function int(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,5})$/.test(s)) bad(`${what} "${s}" is not a small integer`);
  return Number(s);
}

/** XML-DSig 1.1 §4: the one enveloped Signature of this profile. */
function parseSignature(root: XmlElement): RimSignature {
  const all = [...descendants(root)].filter((e) => e.ns === NS_DSIG && e.local === 'Signature');
  if (all.length !== 1) bad(`expected exactly one ds:Signature, found ${all.length}`);
  const sig = all[0]!;
  if (sig.parent !== root) bad('ds:Signature is not a child of the document element');
  const parts = childElements(sig);
  const names = parts.map((p) => (p.ns === NS_DSIG ? p.local : `{${p.ns}}${p.local}`)).join(',');
  if (names !== 'SignedInfo,SignatureValue,KeyInfo') bad(`Signature children are ${names}`);
  const [signedInfo, sigValue, keyInfo] = parts as [XmlElement, XmlElement, XmlElement];
  const si = childElements(signedInfo);
  if (si.map((e) => e.local).join(',') !== 'CanonicalizationMethod,SignatureMethod,Reference' || si.some((e) => e.ns !== NS_DSIG)) {
    bad('SignedInfo is not CanonicalizationMethod, SignatureMethod, Reference');
  }
  const [c14n, method, ref] = si as [XmlElement, XmlElement, XmlElement];
  if (attr(c14n, 'Algorithm') !== ALG_C14N11) bad(`CanonicalizationMethod ${attr(c14n, 'Algorithm')}`);
  if (attr(method, 'Algorithm') !== ALG_ECDSA_SHA384) bad(`SignatureMethod ${attr(method, 'Algorithm')}`);
  if (childElements(c14n).length || childElements(method).length) bad('algorithm parameters are not expected');
  if (attr(ref, 'URI') !== '' || ref.attrs.length !== 1) bad('Reference must be URI="" and nothing else');
  const rp = childElements(ref);
  if (rp.map((e) => e.local).join(',') !== 'Transforms,DigestMethod,DigestValue' || rp.some((e) => e.ns !== NS_DSIG)) {
    bad('Reference is not Transforms, DigestMethod, DigestValue');
  }
  const [transforms, digestMethod, digestValue] = rp as [XmlElement, XmlElement, XmlElement];
  const t = childElements(transforms).map((e) => (e.ns === NS_DSIG && e.local === 'Transform' && !childElements(e).length ? attr(e, 'Algorithm') : '?'));
  if (t.join(' ') !== `${ALG_ENVELOPED} ${ALG_C14N11}`) bad(`unexpected transforms ${t.join(' ')}`);
  if (attr(digestMethod, 'Algorithm') !== ALG_SHA384) bad(`DigestMethod ${attr(digestMethod, 'Algorithm')}`);
  const x509Data = one(keyInfo, NS_DSIG, 'X509Data');
  if (childElements(keyInfo).length !== 1) bad('KeyInfo must hold only X509Data');
  const certEls = childElements(x509Data);
  if (!certEls.length || certEls.some((e) => e.ns !== NS_DSIG || e.local !== 'X509Certificate')) bad('X509Data must hold X509Certificate elements');
  return {
    root,
    element: sig,
    signedInfo,
    digestValue: fromBase64(textOf(digestValue, BAD), BAD),
    signatureValue: fromBase64(textOf(sigValue, BAD), BAD),
    certificates: certEls.map((e) => parseCertificate(fromBase64(textOf(e, BAD), BAD))),
  };
}

export interface VerifyRimOptions {
  anchors: readonly TrustAnchor[];
  now: Date;
  cache?: ChainCache;
}

/**
 * Verifies the RIM's enveloped signature and its signer chain at `now`: the Reference digest over the
 * C14N 1.1 form of the document without the Signature, the ECDSA P-384 signature (XML-DSig 1.1 §6.4.3: raw
 * r || s) over the C14N 1.1 form of SignedInfo, and the KeyInfo certificates (leaf first) to a pinned CoRIM
 * root. The embedded root is only accepted because its key's SHA-256 is pinned.
 */
export async function verifyRim(rim: Rim, opts: VerifyRimOptions): Promise<ChainResult> {
  const chain = await verifyRimChain(rim, opts);
  await verifyRimXmlSignature(rim);
  return chain;
}

/** The time- and anchor-dependent half of {@link verifyRim}: the KeyInfo signer chain at `now` to a pinned root. */
export async function verifyRimChain(rim: Rim, opts: VerifyRimOptions): Promise<ChainResult> {
  const s = rim.signature;
  const chainOpts: Parameters<typeof verifyChain>[1] = { anchors: opts.anchors, now: opts.now };
  if (opts.cache) chainOpts.cache = opts.cache;
  if (s.certificates.length < 2) throw new VerificationError('ERR_NV_RIM_CHAIN_INVALID', 'RIM KeyInfo must carry the signer chain up to the root');
  return verifyChain(s.certificates, chainOpts);
}

/**
 * The half of {@link verifyRim} that depends only on the document: Reference digest and SignedInfo signature
 * by the KeyInfo leaf key. Neither `now` nor the anchors enter it, so its success can be remembered for the
 * exact document (nvidia/memo.ts).
 */
export async function verifyRimXmlSignature(rim: Rim): Promise<void> {
  const s = rim.signature;
  const digest = await sha384(utf8(canonicalize(s.root, (e) => e === s.element)));
  if (!equalBytes(digest, s.digestValue)) {
    throw new VerificationError('ERR_NV_RIM_DIGEST_MISMATCH', `RIM digest ${toBase64(digest)} != signed DigestValue ${toBase64(s.digestValue)}`);
  }
  const leaf = s.certificates[0]!;
  const curve = spkiInfo(leaf.spki).curve;
  if (curve?.name !== 'P-384' || s.signatureValue.length !== 96) {
    throw new VerificationError('ERR_NV_RIM_SIGNATURE_INVALID', 'RIM signature is not ECDSA P-384 r || s');
  }
  const key = await importVerifyKey(leaf.spki, { kind: 'ecdsa', hash: 'SHA-384' });
  const ok = await subtle().verify(
    { name: 'ECDSA', hash: 'SHA-384' },
    key,
    bs(s.signatureValue),
    bs(utf8(canonicalize(s.signedInfo))),
  );
  if (!ok) throw new VerificationError('ERR_NV_RIM_SIGNATURE_INVALID', `RIM signature by "${leaf.subject.cn ?? ''}" does not verify`);
}

// ---------------------------------------------------------------------------------------------------------
// RIM ids (nvtrust / attestation-sdk naming) and version match

/** Driver RIM id: Hopper `NV_GPU_DRIVER_GH100_<ver>`, Blackwell `NV_GPU_CC_DRIVER_<CHIP_INFO|GB100>_<ver>`. */
export function driverRimId(report: NvidiaReport, id: DeviceIdentity): string | undefined {
  const v = report.response.opaque.driverVersion;
  if (id.kind !== 'gpu' || !v) return undefined;
  if (id.arch === 'hopper') return `NV_GPU_DRIVER_GH100_${v}`;
  return `NV_GPU_CC_DRIVER_${(report.response.opaque.chipInfo ?? 'GB100').toUpperCase()}_${v}`;
}

/**
 * VBIOS RIM id: `NV_GPU_VBIOS_<PROJECT>_<PROJECT_SKU>_<CHIP_SKU>_<version without dots>` (upper case);
 * LS10: `NV_SWITCH_BIOS_5612_0002_890_<version>` (5612/0002/890 are fixed in NVIDIA's SDKs).
 */
export function vbiosRimId(report: NvidiaReport, id: DeviceIdentity): string | undefined {
  const o = report.response.opaque;
  if (!o.vbiosVersion) return undefined;
  const ver = o.vbiosVersion.replace(/\./g, '').toUpperCase();
  if (id.kind === 'switch') return `NV_SWITCH_BIOS_5612_0002_890_${ver}`;
  if (!o.project || !o.projectSku || !o.chipSku) return undefined;
  return `NV_GPU_VBIOS_${o.project}_${o.projectSku}_${o.chipSku}_${ver}`.toUpperCase();
}

/** nvtrust step 8/9: `Meta@colloquialVersion` equals the version in the report (case-insensitive). */
export function checkRimVersion(rim: Rim, reportVersion: string | undefined, what: 'driver' | 'vbios'): void {
  if (!reportVersion || rim.colloquialVersion.toLowerCase() !== reportVersion.toLowerCase()) {
    throw new VerificationError(
      'ERR_NV_RIM_VERSION_MISMATCH',
      `${what} RIM is for version ${rim.colloquialVersion}, the report has ${reportVersion ?? 'none'}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Signed identity: is this RIM the one this device needs?
//
// nvtrust and NVIDIA's C++ SDK compare only colloquialVersion; the RIM id (which names project, SKU and
// chip) is the unsigned RIM-service key or bundle map key. What the signature covers, in every real RIM
// (vectors/nvidia, MANIFEST.md):
//   driver  GH100 545.00 / 550.144.03 / 595.71.05: name = product = "GH100", edition "GPU",
//           tagId = hex(SHA-384("GH100_<colloquialVersion>"));
//   VBIOS   GH100 96.00.5E.00.01 (1010/0200/882, test and PROD): name = product = "GH100", edition "GPU",
//           tagId 560b6686… (not the SHA-384 of name_version);
//   LS10    96.10.55.00.01: name = product = "LS10", edition "SWITCH", tagId 6b6fefd8… (same);
//   GB100   97.00.83.00.09: name = product = "GB100", edition "GPU".
// So a RIM must name this device's chip (name and product agree), have the edition of its kind of device,
// and be a driver RIM exactly when its tagId is the driver tag of its name and version. VBIOS tagIds derive
// from nothing in the report: RIMs of two boards of one chip with one VBIOS version are told apart only by the
// unsigned RIM id.

export type RimKind = 'driver' | 'vbios';

/** The signed identity a device needs in its driver or VBIOS RIM. */
export interface RimIdentity {
  kind: RimKind;
  /** Accepted SoftwareIdentity@name (= Meta@product) values. */
  chips: readonly string[];
  /** Meta@edition. */
  edition: 'GPU' | 'SWITCH';
}

export function expectedRimIdentity(report: NvidiaReport, id: DeviceIdentity, kind: RimKind): RimIdentity {
  if (id.kind === 'switch') return { kind, chips: ['LS10'], edition: 'SWITCH' };
  const chips = new Set<string>([id.chip]);
  // Blackwell RIMs are named after CHIP_INFO (GB100 when absent), as `driverRimId` names them.
  if (id.arch === 'blackwell') chips.add((report.response.opaque.chipInfo ?? 'GB100').toUpperCase());
  return { kind, chips: [...chips], edition: 'GPU' };
}

/** The tagId NVIDIA gives a driver RIM: lowercase hex SHA-384 of "<name>_<colloquialVersion>". */
export async function driverRimTagId(name: string, version: string): Promise<string> {
  return toHex(await sha384(utf8(`${name}_${version}`)));
}

/**
 * Driver tag of a RIM object, remembered with the name and version it was computed from: a RIM memoized
 * across appraisals (nvidia/memo.ts) is compared with many devices and need not be hashed each time.
 */
const driverTags = new WeakMap<Rim, { name: string; version: string; tag: Promise<string> }>();

function driverTagOf(rim: Rim): Promise<string> {
  const hit = driverTags.get(rim);
  if (hit && hit.name === rim.name && hit.version === rim.colloquialVersion) return hit.tag;
  const tag = driverRimTagId(rim.name, rim.colloquialVersion);
  driverTags.set(rim, { name: rim.name, version: rim.colloquialVersion, tag });
  return tag;
}

/** Why `rim` is not the RIM `expected` describes, or undefined when it is. Reads signed fields only. */
export async function rimIdentityMismatch(rim: Rim, expected: RimIdentity): Promise<string | undefined> {
  const why: string[] = [];
  if (rim.product !== rim.name) why.push(`product "${rim.product ?? ''}" != name "${rim.name}"`);
  if (!expected.chips.includes(rim.name)) why.push(`chip "${rim.name}" is not ${expected.chips.join(' / ')}`);
  if (rim.edition !== expected.edition) why.push(`edition "${rim.edition ?? ''}" is not "${expected.edition}"`);
  const driverTag = rim.tagId === (await driverTagOf(rim));
  if (driverTag !== (expected.kind === 'driver')) why.push(`tagId ${rim.tagId} is ${driverTag ? '' : 'not '}a driver RIM's`);
  return why.length ? why.join('; ') : undefined;
}

/** Throws ERR_NV_RIM_IDENTITY_MISMATCH unless the RIM's signed identity is the one this device needs. */
export async function checkRimIdentity(rim: Rim, expected: RimIdentity): Promise<void> {
  const why = await rimIdentityMismatch(rim, expected);
  if (why) throw new VerificationError('ERR_NV_RIM_IDENTITY_MISMATCH', `${expected.kind} RIM ${rim.name} ${rim.colloquialVersion} is not this device's: ${why}`);
}

// ---------------------------------------------------------------------------------------------------------
// Golden comparison (nvtrust steps 10–11)

export type MeasurementSource = 'driver' | 'vbios';

export interface MeasurementMismatch {
  index: number;
  source: MeasurementSource;
  expected: string[];
  /** Runtime value (hex), or null when the report has no such block. */
  actual: string | null;
}

export interface GoldenResult {
  /** RIM indices compared and matched. */
  matched: number[];
  /** RIM indices not compared and why (NVDEC0 disabled). */
  skipped: number[];
  mismatches: MeasurementMismatch[];
}

/**
 * Compares the active entries of the given RIMs with the report's blocks. Index N is block N + 1; any
 * alternative matches; an index active in both RIMs is a conflict; index 35 is skipped when NVDEC0 is
 * disabled (0x55), as NVIDIA's C++ SDK does. Every mismatch is listed.
 */
export function compareGolden(report: NvidiaReport, rims: { driver?: Rim; vbios?: Rim }): GoldenResult {
  const golden = new Map<number, { m: RimMeasurement; source: MeasurementSource }>();
  for (const source of ['driver', 'vbios'] as const) {
    for (const m of rims[source]?.measurements ?? []) {
      if (!m.active) continue;
      if (golden.has(m.index)) {
        throw new VerificationError('ERR_NV_RIM_INDEX_CONFLICT', `RIM index ${m.index} is active in both the driver and the VBIOS RIM`);
      }
      golden.set(m.index, { m, source });
    }
  }
  const blocks = new Map(report.response.blocks.map((b) => [b.index, b]));
  const nvdecOff = report.kind === 'gpu' && report.response.opaque.nvdec0Status === STATUS_DISABLED;
  const out: GoldenResult = { matched: [], skipped: [], mismatches: [] };
  for (const [index, { m, source }] of [...golden].sort((a, b) => a[0] - b[0])) {
    if (index === 35 && nvdecOff) {
      out.skipped.push(index);
      continue;
    }
    const block = blocks.get(index + 1);
    const ok = block !== undefined && block.value.length === m.size && m.alternatives.some((h) => equalBytes(h, block.value));
    if (ok) out.matched.push(index);
    else out.mismatches.push({ index, source, expected: m.alternatives.map(toHex), actual: block ? toHex(block.value) : null });
  }
  return out;
}

/** Throws the PolicyError carrying every mismatch (index, source, expected, actual). */
export function assertGolden(result: GoldenResult): void {
  if (result.mismatches.length) {
    throw new PolicyError(
      'ERR_NV_MEASUREMENT_MISMATCH',
      `measurements differ from the RIM at index ${result.mismatches.map((m) => `${m.index} (${m.source})`).join(', ')}`,
      { field: 'measurements', expected: result.mismatches.map((m) => ({ index: m.index, values: m.expected })), actual: result.mismatches },
    );
  }
}

export function rimMissing(id: string): CollateralError {
  return new CollateralError('ERR_NV_RIM_MISSING', `no RIM ${id} given, cached or obtainable`);
}
