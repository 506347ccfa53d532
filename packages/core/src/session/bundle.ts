/**
 * The ccinfer/1 evidence bundle (docs/wire-protocol.md "Evidence bundle") and the attest request that asks for it. Both are CBOR maps
 * decoded strictly (see cbor.ts): a known version, every field of the exact type, no unknown or duplicate
 * keys, bounded sizes. The bundle is untrusted input until appraised; this module only gives it a shape.
 */
import { decodeStrictCbor, encodeCbor, type CborValue } from './cbor.js';
import { sessionError } from './errors.js';

export const BUNDLE_VERSION = 1;
export const NONCE_LENGTH = 32;
/** SEV-SNP ATTESTATION_REPORT size (SEV-SNP ABI spec, Table 22: 0x4A0 bytes). */
export const SNP_REPORT_LENGTH = 1184;

export const BUNDLE_LIMITS = {
  bundleBytes: 8 * 1024 * 1024,
  items: 4096,
  keyConfig: 1024,
  devices: 64,
  deviceReport: 64 * 1024,
  certChain: 64 * 1024,
  snpLeaf: 16 * 1024,
  snpChain: 4,
  tdxQuote: 128 * 1024,
  initdata: 64 * 1024,
  eventLog: 1024 * 1024,
  collateralItem: 1024 * 1024,
} as const;

export interface SnpCpuEvidence {
  tee: 'snp';
  /** ATTESTATION_REPORT, exactly 1184 bytes. */
  report: Uint8Array;
  /** VCEK or VLEK certificate, DER. */
  leaf: Uint8Array;
  /** ASK/ASVK, ARK (DER), when the pod supplies them. */
  chain?: Uint8Array[];
}

export interface TdxEvidence {
  tee: 'tdx';
  /** TDX quote v4/v5; the PCK chain is inside (certification data type 5). */
  quote: Uint8Array;
}

export type CpuEvidence = SnpCpuEvidence | TdxEvidence;

export interface GpuEvidence {
  /** SPDM GET_MEASUREMENTS request || response. */
  report: Uint8Array;
  /** Device certificate chain, PEM or DER concatenation. */
  certChain: Uint8Array;
}

export interface Collateral {
  /** Intel PCS responses, by the file names of docs/cli.md `verify tdx` in lowerCamelCase without extension (tcbInfo, qeIdentity, …). */
  tdx?: Map<string, Uint8Array>;
  snp?: { crl: Uint8Array };
  nvidia?: { rims?: Map<string, Uint8Array>; ocsp?: Uint8Array[] };
}

export interface EvidenceBundle {
  v: 1;
  nonce: Uint8Array;
  keyConfig: Uint8Array;
  cpu: CpuEvidence;
  /** Bundle order = binding order (docs/binding.md). */
  gpus: GpuEvidence[];
  switches: GpuEvidence[];
  initdata?: string;
  collateral?: Collateral;
  eventLog?: Uint8Array;
  /**
   * The binding scheme REPORT_DATA follows, when it is not `ccinfer/1` (e.g. `ccinfer/1-text` from a CoCo
   * Attestation Agent that takes text runtime data only). The client accepts only schemes it knows.
   */
  binding?: string;
}

export const TDX_COLLATERAL_KEYS = [
  'tcbInfo',
  'tcbInfoIssuerChain',
  'qeIdentity',
  'qeIdentityIssuerChain',
  'pckCrl',
  'pckCrlIssuerChain',
  'rootCaCrl',
] as const;

// ————— decoding —————

type Obj = Map<string, CborValue>;

function asMap(v: CborValue | undefined, what: string): Obj {
  if (!(v instanceof Map)) throw sessionError('ERR_BUNDLE_FIELD_TYPE', `${what} must be a map`);
  return v;
}

/** Rejects keys outside `known` and returns a getter that enforces presence for required keys. */
function fields(m: Obj, what: string, required: readonly string[], optional: readonly string[] = []): (k: string) => CborValue | undefined {
  for (const k of m.keys()) {
    if (!required.includes(k) && !optional.includes(k)) throw sessionError('ERR_BUNDLE_UNKNOWN_FIELD', `${what} has unknown field "${k}"`);
  }
  for (const k of required) {
    if (!m.has(k)) throw sessionError('ERR_BUNDLE_MISSING_FIELD', `${what} lacks "${k}"`);
  }
  return (k) => m.get(k);
}

function bstr(v: CborValue | undefined, what: string, max: number, exact?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw sessionError('ERR_BUNDLE_FIELD_TYPE', `${what} must be a byte string`);
  if (exact !== undefined ? v.length !== exact : v.length === 0 || v.length > max) {
    throw sessionError('ERR_BUNDLE_FIELD_SIZE', `${what} has ${v.length} bytes; expected ${exact ?? `1..${max}`}`);
  }
  return v;
}

function tstr(v: CborValue | undefined, what: string, max: number): string {
  if (typeof v !== 'string') throw sessionError('ERR_BUNDLE_FIELD_TYPE', `${what} must be a text string`);
  if (v.length > max) throw sessionError('ERR_BUNDLE_FIELD_SIZE', `${what} exceeds ${max} characters`);
  return v;
}

function array(v: CborValue | undefined, what: string, max: number): CborValue[] {
  if (!Array.isArray(v)) throw sessionError('ERR_BUNDLE_FIELD_TYPE', `${what} must be an array`);
  if (v.length > max) throw sessionError('ERR_BUNDLE_FIELD_SIZE', `${what} has ${v.length} entries; at most ${max}`);
  return v;
}

function version(v: CborValue | undefined, what: string): 1 {
  if (typeof v !== 'number') throw sessionError('ERR_BUNDLE_FIELD_TYPE', `${what}.v must be an unsigned integer`);
  if (v !== BUNDLE_VERSION) throw sessionError('ERR_BUNDLE_VERSION', `${what} version ${v} is not supported (expected 1)`);
  return 1;
}

function decodeCpu(v: CborValue | undefined): CpuEvidence {
  const m = asMap(v, 'cpu');
  const tee = m.get('tee');
  if (typeof tee !== 'string') throw sessionError(m.has('tee') ? 'ERR_BUNDLE_FIELD_TYPE' : 'ERR_BUNDLE_MISSING_FIELD', 'cpu.tee must be a text string');
  if (tee === 'snp') {
    const get = fields(m, 'cpu', ['tee', 'report', 'leaf'], ['chain']);
    const out: SnpCpuEvidence = {
      tee: 'snp',
      report: bstr(get('report'), 'cpu.report', SNP_REPORT_LENGTH, SNP_REPORT_LENGTH),
      leaf: bstr(get('leaf'), 'cpu.leaf', BUNDLE_LIMITS.snpLeaf),
    };
    const chain = get('chain');
    if (chain !== undefined) {
      out.chain = array(chain, 'cpu.chain', BUNDLE_LIMITS.snpChain).map((c, i) => bstr(c, `cpu.chain[${i}]`, BUNDLE_LIMITS.snpLeaf));
    }
    return out;
  }
  if (tee === 'tdx') {
    const get = fields(m, 'cpu', ['tee', 'quote']);
    return { tee: 'tdx', quote: bstr(get('quote'), 'cpu.quote', BUNDLE_LIMITS.tdxQuote) };
  }
  throw sessionError('ERR_BUNDLE_TEE_UNKNOWN', `cpu.tee "${tee}" is not snp or tdx`);
}

function decodeDevices(v: CborValue | undefined, what: string): GpuEvidence[] {
  return array(v, what, BUNDLE_LIMITS.devices).map((d, i) => {
    const get = fields(asMap(d, `${what}[${i}]`), `${what}[${i}]`, ['report', 'certChain']);
    return {
      report: bstr(get('report'), `${what}[${i}].report`, BUNDLE_LIMITS.deviceReport),
      certChain: bstr(get('certChain'), `${what}[${i}].certChain`, BUNDLE_LIMITS.certChain),
    };
  });
}

function bstrMap(v: CborValue | undefined, what: string, known?: readonly string[]): Map<string, Uint8Array> {
  const m = asMap(v, what);
  const out = new Map<string, Uint8Array>();
  for (const [k, x] of m) {
    if (known && !known.includes(k)) throw sessionError('ERR_BUNDLE_UNKNOWN_FIELD', `${what} has unknown field "${k}"`);
    out.set(k, bstr(x, `${what}.${k}`, BUNDLE_LIMITS.collateralItem));
  }
  return out;
}

function decodeCollateral(v: CborValue | undefined): Collateral {
  const get = fields(asMap(v, 'collateral'), 'collateral', [], ['tdx', 'snp', 'nvidia']);
  const out: Collateral = {};
  if (get('tdx') !== undefined) out.tdx = bstrMap(get('tdx'), 'collateral.tdx', TDX_COLLATERAL_KEYS);
  if (get('snp') !== undefined) {
    const s = fields(asMap(get('snp'), 'collateral.snp'), 'collateral.snp', ['crl']);
    out.snp = { crl: bstr(s('crl'), 'collateral.snp.crl', BUNDLE_LIMITS.collateralItem) };
  }
  if (get('nvidia') !== undefined) {
    const n = fields(asMap(get('nvidia'), 'collateral.nvidia'), 'collateral.nvidia', [], ['rims', 'ocsp']);
    const nv: NonNullable<Collateral['nvidia']> = {};
    if (n('rims') !== undefined) nv.rims = bstrMap(n('rims'), 'collateral.nvidia.rims');
    if (n('ocsp') !== undefined) {
      nv.ocsp = array(n('ocsp'), 'collateral.nvidia.ocsp', BUNDLE_LIMITS.devices * 4).map((x, i) =>
        bstr(x, `collateral.nvidia.ocsp[${i}]`, BUNDLE_LIMITS.collateralItem),
      );
    }
    out.nvidia = nv;
  }
  return out;
}

/**
 * A bundle is a CBOR map (RFC 8949 §3.1 major type 5: initial byte 0xa0–0xbf). Anything else
 * is some other file handed over by mistake — a policy (JSON `{` reads as a CBOR text string of absurd
 * length), a PEM, a text file — and is named as such instead of as a CBOR detail.
 */
function notABundle(bytes: Uint8Array): void {
  const first = bytes[0];
  if (first !== undefined && first >> 5 === 5) return; // the CBOR decoder judges the length encoding
  const looks = first === 0x7b || first === 0x5b ? ' (it looks like JSON: a policy or anchors file?)' : first === 0x2d ? ' (it looks like PEM or text)' : first === undefined ? ' (the file is empty)' : '';
  throw sessionError('ERR_BUNDLE_NOT_A_BUNDLE', `not a ccinfer evidence bundle: a CBOR map was expected${looks}`);
}

export function decodeBundle(bytes: Uint8Array): EvidenceBundle {
  if (bytes.length > BUNDLE_LIMITS.bundleBytes) throw sessionError('ERR_BUNDLE_TOO_LARGE', `bundle of ${bytes.length} bytes exceeds ${BUNDLE_LIMITS.bundleBytes}`);
  notABundle(bytes);
  const m = asMap(decodeStrictCbor(bytes, BUNDLE_LIMITS.items), 'bundle');
  // The version is checked before anything else so that a v2 bundle is "unsupported version", not "unknown field".
  if (!m.has('v')) throw sessionError('ERR_BUNDLE_MISSING_FIELD', 'bundle lacks "v"');
  const v = version(m.get('v'), 'bundle');
  const get = fields(m, 'bundle', ['v', 'nonce', 'keyConfig', 'cpu', 'gpus', 'switches'], ['initdata', 'collateral', 'eventLog', 'binding']);
  const out: EvidenceBundle = {
    v,
    nonce: bstr(get('nonce'), 'nonce', NONCE_LENGTH, NONCE_LENGTH),
    keyConfig: bstr(get('keyConfig'), 'keyConfig', BUNDLE_LIMITS.keyConfig),
    cpu: decodeCpu(get('cpu')),
    gpus: decodeDevices(get('gpus'), 'gpus'),
    switches: decodeDevices(get('switches'), 'switches'),
  };
  if (get('initdata') !== undefined) out.initdata = tstr(get('initdata'), 'initdata', BUNDLE_LIMITS.initdata);
  if (get('collateral') !== undefined) out.collateral = decodeCollateral(get('collateral'));
  if (get('eventLog') !== undefined) out.eventLog = bstr(get('eventLog'), 'eventLog', BUNDLE_LIMITS.eventLog);
  if (get('binding') !== undefined) out.binding = tstr(get('binding'), 'binding', 64);
  return out;
}

// ————— encoding —————

function cpuToCbor(c: CpuEvidence): Obj {
  if (c.tee === 'snp') {
    const m: Obj = new Map<string, CborValue>([
      ['tee', 'snp'],
      ['report', c.report],
      ['leaf', c.leaf],
    ]);
    if (c.chain) m.set('chain', c.chain);
    return m;
  }
  return new Map<string, CborValue>([
    ['tee', 'tdx'],
    ['quote', c.quote],
  ]);
}

const deviceToCbor = (d: GpuEvidence): Obj =>
  new Map<string, CborValue>([
    ['report', d.report],
    ['certChain', d.certChain],
  ]);

function collateralToCbor(c: Collateral): Obj {
  const m: Obj = new Map();
  if (c.tdx) m.set('tdx', new Map(c.tdx));
  if (c.snp) m.set('snp', new Map<string, CborValue>([['crl', c.snp.crl]]));
  if (c.nvidia) {
    const n: Obj = new Map();
    if (c.nvidia.rims) n.set('rims', new Map(c.nvidia.rims));
    if (c.nvidia.ocsp) n.set('ocsp', c.nvidia.ocsp);
    m.set('nvidia', n);
  }
  return m;
}

/** Encodes a bundle; the result decodes with {@link decodeBundle} to an equal value. */
export function encodeBundle(b: EvidenceBundle): Uint8Array {
  const m: Obj = new Map<string, CborValue>([
    ['v', b.v],
    ['nonce', b.nonce],
    ['keyConfig', b.keyConfig],
    ['cpu', cpuToCbor(b.cpu)],
    ['gpus', b.gpus.map(deviceToCbor)],
    ['switches', b.switches.map(deviceToCbor)],
  ]);
  if (b.initdata !== undefined) m.set('initdata', b.initdata);
  if (b.collateral) m.set('collateral', collateralToCbor(b.collateral));
  if (b.eventLog) m.set('eventLog', b.eventLog);
  if (b.binding !== undefined) m.set('binding', b.binding);
  return encodeCbor(m);
}

// ————— attest request: POST /.well-known/ccinfer/attest —————

export interface AttestRequest {
  v: 1;
  nonce: Uint8Array;
}

export function encodeAttestRequest(r: AttestRequest): Uint8Array {
  return encodeCbor(
    new Map<string, CborValue>([
      ['v', r.v],
      ['nonce', r.nonce],
    ]),
  );
}

export function decodeAttestRequest(bytes: Uint8Array): AttestRequest {
  if (bytes.length > 256) throw sessionError('ERR_BUNDLE_TOO_LARGE', `attest request of ${bytes.length} bytes`);
  const m = asMap(decodeStrictCbor(bytes, 8), 'attest request');
  if (!m.has('v')) throw sessionError('ERR_BUNDLE_MISSING_FIELD', 'attest request lacks "v"');
  const v = version(m.get('v'), 'attest request');
  const get = fields(m, 'attest request', ['v', 'nonce']);
  return { v, nonce: bstr(get('nonce'), 'nonce', NONCE_LENGTH, NONCE_LENGTH) };
}
