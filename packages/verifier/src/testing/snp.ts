/**
 * A simulated AMD key hierarchy and SEV-SNP reports with any field values: ARK (self-signed, RSA-PSS) →
 * ASK / ASVK → VCEK / VLEK (P-384) with AMD's extensions, an ARK-signed CRL, and reports signed by the leaf.
 * The layouts are exactly the real ones (parse.ts), only the keys differ: verification accepts them only
 * when the caller passes `sim.anchors` instead of the pinned AMD roots.
 *
 * RSA keys are 2048-bit (AMD's are 4096) to keep key generation fast; verification does not depend on it.
 */
import { sha256, toHex, utf8 } from '@ccinfer/core';
import { der, tlv } from '@ccinfer/core/internal';
import { crlUrl } from '../snp/collateral.js';
import type { TrustAnchors } from '../anchors.js';
import { AMD_OID } from '../snp/endorsement.js';
import { REPORT_SIZE, type SnpProductLine } from '../snp/parse.js';
import { generateKey, mintCertificate, mintCrl, sign, toPem, type KeyPair } from './x509.js';

export interface TcbSpec {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  fmc?: number;
}

export function encodeTcb(t: TcbSpec, product: SnpProductLine): bigint {
  const bytes = product === 'Turin' ? [t.fmc ?? 0, t.bootloader, t.tee, t.snp, 0, 0, 0, t.microcode] : [t.bootloader, t.tee, 0, 0, 0, 0, t.snp, t.microcode];
  return bytes.reduce((acc, b, i) => acc | (BigInt(b) << BigInt(8 * i)), 0n);
}

export const DEFAULT_TCB: Record<SnpProductLine, TcbSpec> = {
  Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
  Genoa: { bootloader: 9, tee: 0, snp: 23, microcode: 72 },
  Turin: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
};

const CPUID: Record<SnpProductLine, { family: number; model: number; stepping: number }> = {
  Milan: { family: 0x19, model: 0x01, stepping: 0x01 },
  Genoa: { family: 0x19, model: 0x11, stepping: 0x01 },
  Turin: { family: 0x1a, model: 0x02, stepping: 0x01 },
};

/** Every report field, settable. Unset fields take a valid, unremarkable value. */
export interface ReportFields {
  version?: number;
  guestSvn?: number;
  policy?: bigint;
  familyId?: Uint8Array;
  imageId?: Uint8Array;
  vmpl?: number;
  signatureAlgo?: number;
  currentTcb?: TcbSpec;
  reportedTcb?: TcbSpec;
  committedTcb?: TcbSpec;
  launchTcb?: TcbSpec;
  platformInfo?: bigint;
  /** Raw KEY_INFO; default from the signing key kind. */
  keyInfo?: number;
  reportData?: Uint8Array;
  measurement?: Uint8Array;
  hostData?: Uint8Array;
  idKeyDigest?: Uint8Array;
  authorKeyDigest?: Uint8Array;
  reportId?: Uint8Array;
  reportIdMa?: Uint8Array;
  cpuid?: { family: number; model: number; stepping: number };
  chipId?: Uint8Array;
  currentVersion?: [number, number, number];
  committedVersion?: [number, number, number];
  launchMitVector?: bigint;
  currentMitVector?: bigint;
}

/** Encodes an unsigned report (signature area zero) with the product's TCB layout. */
export function encodeReport(f: ReportFields, product: SnpProductLine, signingKey: 'vcek' | 'vlek' = 'vcek'): Uint8Array {
  const b = new Uint8Array(REPORT_SIZE);
  const v = new DataView(b.buffer);
  const version = f.version ?? 5;
  const tcb = f.reportedTcb ?? DEFAULT_TCB[product];
  v.setUint32(0x00, version, true);
  v.setUint32(0x04, f.guestSvn ?? 0, true);
  v.setBigUint64(0x08, f.policy ?? 0x30000n, true);
  b.set(f.familyId ?? new Uint8Array(16), 0x10);
  b.set(f.imageId ?? new Uint8Array(16), 0x20);
  v.setUint32(0x30, f.vmpl ?? 0, true);
  v.setUint32(0x34, f.signatureAlgo ?? 1, true);
  v.setBigUint64(0x38, encodeTcb(f.currentTcb ?? tcb, product), true);
  v.setBigUint64(0x40, f.platformInfo ?? 0x25n, true);
  v.setUint32(0x48, f.keyInfo ?? (signingKey === 'vlek' ? 1 << 2 : 0), true);
  b.set(f.reportData ?? new Uint8Array(64), 0x50);
  b.set(f.measurement ?? new Uint8Array(48).fill(0x11), 0x90);
  b.set(f.hostData ?? new Uint8Array(32), 0xc0);
  b.set(f.idKeyDigest ?? new Uint8Array(48), 0xe0);
  b.set(f.authorKeyDigest ?? new Uint8Array(48), 0x110);
  b.set(f.reportId ?? new Uint8Array(32).fill(0x22), 0x140);
  b.set(f.reportIdMa ?? new Uint8Array(32).fill(0xff), 0x160);
  v.setBigUint64(0x180, encodeTcb(tcb, product), true);
  if (version >= 3) {
    const c = f.cpuid ?? CPUID[product];
    b[0x188] = c.family;
    b[0x189] = c.model;
    b[0x18a] = c.stepping;
  }
  b.set(f.chipId ?? defaultChipId(product), 0x1a0);
  v.setBigUint64(0x1e0, encodeTcb(f.committedTcb ?? tcb, product), true);
  const [cm, cn, cb] = f.currentVersion ?? [1, 55, 61];
  b.set([cb, cn, cm], 0x1e8);
  const [km, kn, kb] = f.committedVersion ?? f.currentVersion ?? [1, 55, 61];
  b.set([kb, kn, km], 0x1ec);
  v.setBigUint64(0x1f0, encodeTcb(f.launchTcb ?? tcb, product), true);
  if (version >= 5) {
    v.setBigUint64(0x1f8, f.launchMitVector ?? 0n, true);
    v.setBigUint64(0x200, f.currentMitVector ?? 0n, true);
  }
  return b;
}

export function defaultChipId(product: SnpProductLine): Uint8Array {
  const id = new Uint8Array(64);
  const n = product === 'Turin' ? 8 : 64;
  for (let i = 0; i < n; i++) id[i] = (i * 37 + 11) & 0xff;
  return id;
}

/** Signs [0, 0x2A0) with the leaf key and writes R and S little-endian into the signature area. */
export async function signReport(report: Uint8Array, key: KeyPair): Promise<Uint8Array> {
  const out = report.slice();
  const sig = await sign(key, 'ecdsa-sha384', out.subarray(0, 0x2a0), true);
  out.set(sig.subarray(0, 48).slice().reverse(), 0x2a0);
  out.set(sig.subarray(48).slice().reverse(), 0x2e8);
  return out;
}

export interface SimulatedAmd {
  product: SnpProductLine;
  ark: KeyPair;
  ask: KeyPair;
  asvk: KeyPair;
  arkDer: Uint8Array;
  askDer: Uint8Array;
  asvkDer: Uint8Array;
  /** Anchors pinning this simulated ARK (and nothing else) for `product`. */
  anchors: TrustAnchors;
  /** KDS-style cert_chain PEM: ASK (or ASVK) then ARK. */
  chainPem(kind: 'vcek' | 'vlek'): string;
  mintLeaf(options: LeafOptions): Promise<{ key: KeyPair; der: Uint8Array }>;
  /** An ARK-signed CRL; `scope` adds an issuingDistributionPoint naming the VCEK (ASK) or VLEK (ASVK) CRL URL. */
  /**
   * An ARK-signed CRL. `scope` (default `vcek`) names the hierarchy in an issuingDistributionPoint, as the KDS
   * URL of that hierarchy's CRL; `none` leaves it out (the verifier then ties the CRL by where it fetched it).
   */
  mintCrl(options?: { revokedSerials?: (number | Uint8Array)[]; thisUpdate?: Date; nextUpdate?: Date; signer?: KeyPair; scope?: 'vcek' | 'vlek' | 'none' }): Promise<Uint8Array>;
}

export interface LeafOptions {
  kind?: 'vcek' | 'vlek';
  tcb?: TcbSpec;
  chipId?: Uint8Array;
  productName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Extra or replacement AMD extensions. */
  extensions?: { oid: string; value: Uint8Array }[];
  omit?: string[];
  key?: KeyPair;
}

const NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
const NOT_AFTER = new Date('2049-01-01T00:00:00Z');

/** Creates a simulated ARK/ASK/ASVK hierarchy for a product line. */
export async function createSimulatedAmd(product: SnpProductLine = 'Genoa'): Promise<SimulatedAmd> {
  const [ark, ask, asvk] = await Promise.all([generateKey('RSA-PSS'), generateKey('RSA-PSS'), generateKey('RSA-PSS')]);
  const arkName = `ARK-${product}`;
  const arkDer = await mintCertificate({ subject: arkName, issuer: arkName, publicKey: ark, signer: ark, ca: { pathLen: 1 }, pssTrailer: true, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  // Like AMD's, the intermediates name the CRL that covers them (RFC 5280 §4.2.1.13).
  const crlDp = (kind: 'vcek' | 'vlek') => [{ oid: '2.5.29.31', value: der.seq(der.seq(der.ctx(0, der.ctx(0, tlv(0x86, utf8(crlUrl(product, kind))))))) }];
  const askDer = await mintCertificate({ subject: `SEV-${product}`, issuer: arkName, publicKey: ask, signer: ark, ca: { pathLen: 0 }, serial: 2, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, extensions: crlDp('vcek') });
  const asvkDer = await mintCertificate({ subject: `SEV-VLEK-${product}`, issuer: arkName, publicKey: asvk, signer: ark, ca: { pathLen: 0 }, serial: 3, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, extensions: crlDp('vlek') });
  return simulatedAmdFrom({ product, ark, ask, asvk, arkDer, askDer, asvkDer });
}

/** The keys and certificates that make a simulated AMD hierarchy (what a saved hierarchy holds, state.ts). */
export type SimulatedAmdParts = Pick<SimulatedAmd, 'product' | 'ark' | 'ask' | 'asvk' | 'arkDer' | 'askDer' | 'asvkDer'>;

/** A simulated AMD hierarchy around existing keys and certificates (minted above, or loaded from a saved one). */
export async function simulatedAmdFrom(parts: SimulatedAmdParts): Promise<SimulatedAmd> {
  const { product, ark, ask, asvk, arkDer, askDer, asvkDer } = parts;
  const arkName = `ARK-${product}`;
  const pin = toHex(await sha256(ark.spki));
  const anchors: TrustAnchors = { amd: { [product]: { name: `SIMULATED ARK-${product}`, spkiSha256: pin } }, intel: [], nvidiaDevice: [], nvidiaRim: [], simulated: true };
  const sim: SimulatedAmd = {
    product,
    ark,
    ask,
    asvk,
    arkDer,
    askDer,
    asvkDer,
    anchors,
    chainPem: (kind) => toPem([kind === 'vcek' ? askDer : asvkDer, arkDer]),
    async mintLeaf(o) {
      const kind = o.kind ?? 'vcek';
      const key = o.key ?? (await generateKey('P-384'));
      const tcb = o.tcb ?? DEFAULT_TCB[product];
      const intExt = (oid: string, n: number): { oid: string; value: Uint8Array } => ({ oid, value: der.int(n) });
      let exts: { oid: string; value: Uint8Array }[] = [
        intExt(AMD_OID.structVersion, product === 'Turin' ? 1 : 0),
        { oid: AMD_OID.productName, value: der.ia5(o.productName ?? (product === 'Milan' && kind === 'vcek' ? 'Milan-B0' : product)) },
        intExt(AMD_OID.blSpl, tcb.bootloader),
        intExt(AMD_OID.teeSpl, tcb.tee),
        intExt(AMD_OID.snpSpl, tcb.snp),
        intExt(AMD_OID.ucodeSpl, tcb.microcode),
      ];
      if (product === 'Turin') exts.push(intExt(AMD_OID.fmcSpl, tcb.fmc ?? 0));
      if (kind === 'vcek') exts.push({ oid: AMD_OID.hwId, value: (o.chipId ?? defaultChipId(product)).subarray(0, product === 'Turin' ? 8 : 64) });
      else exts.push({ oid: AMD_OID.cspId, value: der.ia5('CN=simulated-csp.example') });
      for (const e of o.extensions ?? []) exts = [...exts.filter((x) => x.oid !== e.oid), e];
      exts = exts.filter((e) => !(o.omit ?? []).includes(e.oid));
      const leafDer = await mintCertificate({
        subject: kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK',
        issuer: kind === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`,
        publicKey: key,
        signer: kind === 'vcek' ? ask : asvk,
        alg: 'rsa-pss-sha384',
        serial: 0,
        notBefore: o.notBefore ?? NOT_BEFORE,
        notAfter: o.notAfter ?? NOT_AFTER,
        extensions: exts,
      });
      return { key, der: leafDer };
    },
    async mintCrl(o = {}) {
      return mintCrl({
        issuer: arkName,
        signer: o.signer ?? ark,
        alg: 'rsa-pss-sha384',
        thisUpdate: o.thisUpdate ?? NOT_BEFORE,
        nextUpdate: o.nextUpdate ?? NOT_AFTER,
        revoked: (o.revokedSerials ?? []).map((serial) => ({ serial, reason: 1 })),
        ...(o.scope !== 'none' ? { distributionPoint: [crlUrl(product, o.scope ?? 'vcek')] } : {}),
      });
    },
  };
  return sim;
}

const shared = new Map<SnpProductLine, Promise<SimulatedAmd>>();

/** One simulated hierarchy per product line per process (key generation is the slow part). */
export function simulatedAmd(product: SnpProductLine = 'Genoa'): Promise<SimulatedAmd> {
  let p = shared.get(product);
  if (!p) shared.set(product, (p = createSimulatedAmd(product)));
  return p;
}

export interface MintedSnpEvidence {
  report: Uint8Array;
  leaf: Uint8Array;
  chain: string;
  crl: Uint8Array;
  leafKey: KeyPair;
}

/** A signed report with its leaf, chain and an empty CRL of its hierarchy: valid evidence unless the fields say otherwise. */
export async function mintSnpEvidence(
  sim: SimulatedAmd,
  fields: ReportFields = {},
  options: { kind?: 'vcek' | 'vlek'; leaf?: LeafOptions; signWith?: KeyPair } = {},
): Promise<MintedSnpEvidence> {
  const kind = options.kind ?? 'vcek';
  const leafOpts: LeafOptions = { kind, ...(fields.reportedTcb ? { tcb: fields.reportedTcb } : {}), ...(fields.chipId ? { chipId: fields.chipId } : {}), ...options.leaf };
  const leaf = await sim.mintLeaf(leafOpts);
  const report = await signReport(encodeReport(fields, sim.product, kind), options.signWith ?? leaf.key);
  return { report, leaf: leaf.der, chain: sim.chainPem(kind), crl: await sim.mintCrl({ scope: kind }), leafKey: leaf.key };
}

