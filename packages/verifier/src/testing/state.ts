/**
 * A saved simulated vendor hierarchy: the AMD (ARK, ASK, ASVK), Intel (root, PCK Platform CA, TCB Signing) and
 * NVIDIA (device identity and RIM) CAs with their private keys, as one JSON document. Real pods all chain to
 * the same AMD / Intel / NVIDIA roots; simulated pods that load one saved hierarchy do too, so a restarted
 * simulated pod, or several simulated replicas, are accepted by one client with one set of simulated anchors.
 *
 * The document is read from a file, so it is checked like any input: its shape, every key's and certificate's
 * encoding, and that every private key belongs to its certificate (a mismatched pair would mint evidence no
 * client accepts, long after the file was written). Failures are ConfigError `ERR_SIMULATOR_STATE`.
 */
import { ConfigError, equalBytes, fromBase64, subtle, toBase64 } from '@ccinfer/core';
import { parseCertificate } from '../x509/certificate.js';
import { podMaterialFrom, type SimulatedPodMaterial } from './bundle.js';
import { simulatedNvidiaFrom, type Ca } from './nvidia.js';
import { simulatedAmdFrom } from './snp.js';
import { intelPkiFrom } from './tdx.js';
import type { KeyKind, KeyPair } from './x509.js';

/** Error code of saved simulated hierarchies (stable public API). */
export type SimulatorStateErrorCode = 'ERR_SIMULATOR_STATE'; // ConfigError: a saved hierarchy that is malformed or inconsistent

declare module '@ccinfer/core' {
  interface CcinferErrorCodes extends Record<SimulatorStateErrorCode, true> {}
}

/** The format name a saved hierarchy carries; a document without it (or with another) is refused. */
export const SIMULATED_HIERARCHY_FORMAT = 'ccinfer-simulated-hierarchy/1';

/** A key pair as saved: its kind, PKCS#8 private key and SubjectPublicKeyInfo, both base64. */
interface SavedKey {
  kind: KeyKind;
  pkcs8: string;
  spki: string;
}
interface SavedCa {
  name: string;
  key: SavedKey;
  der: string;
}

/** The JSON document of a saved hierarchy (secret: it holds the simulated vendors' private keys). */
export interface SavedSimulatedHierarchy {
  format: typeof SIMULATED_HIERARCHY_FORMAT;
  amd: { product: 'Genoa'; ark: SavedKey; ask: SavedKey; asvk: SavedKey; arkDer: string; askDer: string; asvkDer: string };
  intel: { root: SavedKey; rootDer: string; pckCa: SavedKey; pckCaDer: string; tcbSigning: SavedKey; tcbSigningDer: string };
  nvidia: Record<(typeof NVIDIA_CAS)[number], SavedCa>;
}

const NVIDIA_CAS = ['deviceRoot', 'identity', 'provisioner', 'rimRoot', 'rimCa', 'rimSigner'] as const;
const KINDS: readonly KeyKind[] = ['P-256', 'P-384', 'RSA-PSS'];

/** Saves a hierarchy (as minted by `simulatedPodMaterial`) as a JSON-ready document. */
export async function saveSimulatedHierarchy(m: SimulatedPodMaterial): Promise<SavedSimulatedHierarchy> {
  const b = toBase64;
  const ca = async (c: Ca): Promise<SavedCa> => ({ name: c.name, key: await saveKey(c.key), der: b(c.der) });
  const nvidia = {} as Record<(typeof NVIDIA_CAS)[number], SavedCa>;
  for (const n of NVIDIA_CAS) nvidia[n] = await ca(m.nvidia[n]);
  return {
    format: SIMULATED_HIERARCHY_FORMAT,
    amd: { product: 'Genoa', ark: await saveKey(m.amd.ark), ask: await saveKey(m.amd.ask), asvk: await saveKey(m.amd.asvk), arkDer: b(m.amd.arkDer), askDer: b(m.amd.askDer), asvkDer: b(m.amd.asvkDer) },
    intel: { root: await saveKey(m.intel.root), rootDer: b(m.intel.rootDer), pckCa: await saveKey(m.intel.pckCa), pckCaDer: b(m.intel.pckCaDer), tcbSigning: await saveKey(m.intel.tcbSigning), tcbSigningDer: b(m.intel.tcbSigningDer) },
    nvidia,
  };
}

/** Loads a saved hierarchy (parsed JSON, untrusted): the same roots, intermediates and keys as when saved. */
export async function loadSimulatedHierarchy(doc: unknown): Promise<SimulatedPodMaterial> {
  const d = obj(doc, 'the document');
  if (d.format !== SIMULATED_HIERARCHY_FORMAT) fail(`format must be "${SIMULATED_HIERARCHY_FORMAT}"`);
  const a = obj(d.amd, 'amd');
  if (a.product !== 'Genoa') fail('amd.product must be "Genoa"');
  const cert = (v: unknown, where: string): Uint8Array => {
    const bytes = b64(v, where);
    try {
      parseCertificate(bytes);
    } catch (cause) {
      fail(`${where} is not a DER certificate`, cause);
    }
    return bytes;
  };
  // Each key must be the one its certificate certifies.
  const pair = async (k: unknown, certDer: Uint8Array, where: string): Promise<KeyPair> => {
    const key = await loadKey(k, where);
    if (!equalBytes(key.spki, parseCertificate(certDer).spki)) fail(`${where} is not the key of its certificate`);
    return key;
  };
  const arkDer = cert(a.arkDer, 'amd.arkDer');
  const askDer = cert(a.askDer, 'amd.askDer');
  const asvkDer = cert(a.asvkDer, 'amd.asvkDer');
  const amd = await simulatedAmdFrom({ product: 'Genoa', ark: await pair(a.ark, arkDer, 'amd.ark'), ask: await pair(a.ask, askDer, 'amd.ask'), asvk: await pair(a.asvk, asvkDer, 'amd.asvk'), arkDer, askDer, asvkDer });
  const i = obj(d.intel, 'intel');
  const rootDer = cert(i.rootDer, 'intel.rootDer');
  const pckCaDer = cert(i.pckCaDer, 'intel.pckCaDer');
  const tcbSigningDer = cert(i.tcbSigningDer, 'intel.tcbSigningDer');
  const intel = await intelPkiFrom({
    root: await pair(i.root, rootDer, 'intel.root'),
    rootDer,
    pckCa: await pair(i.pckCa, pckCaDer, 'intel.pckCa'),
    pckCaDer,
    tcbSigning: await pair(i.tcbSigning, tcbSigningDer, 'intel.tcbSigning'),
    tcbSigningDer,
  });
  const n = obj(d.nvidia, 'nvidia');
  const cas = {} as Record<(typeof NVIDIA_CAS)[number], Ca>;
  for (const name of NVIDIA_CAS) {
    const c = obj(n[name], `nvidia.${name}`);
    if (typeof c.name !== 'string' || c.name.length === 0 || c.name.length > 256) fail(`nvidia.${name}.name must be a name`);
    const der = cert(c.der, `nvidia.${name}.der`);
    cas[name] = { name: c.name, der, key: await pair(c.key, der, `nvidia.${name}.key`) };
  }
  return podMaterialFrom(amd, intel, await simulatedNvidiaFrom(cas));
}

async function saveKey(k: KeyPair): Promise<SavedKey> {
  return { kind: k.kind, pkcs8: toBase64(new Uint8Array(await subtle().exportKey('pkcs8', k.privateKey))), spki: toBase64(k.spki) };
}

async function loadKey(v: unknown, where: string): Promise<KeyPair> {
  const k = obj(v, where);
  const kind = k.kind as KeyKind;
  if (!KINDS.includes(kind)) fail(`${where}.kind must be one of ${KINDS.join(', ')}`);
  const pkcs8 = b64(k.pkcs8, `${where}.pkcs8`);
  const spki = b64(k.spki, `${where}.spki`);
  // Extractable, as freshly generated simulator keys are (so a loaded hierarchy can be saved again).
  const alg = kind === 'RSA-PSS' ? { name: 'RSA-PSS', hash: 'SHA-384' } : { name: 'ECDSA', namedCurve: kind };
  let matches = false;
  try {
    const privateKey = await subtle().importKey('pkcs8', pkcs8, alg, true, ['sign']);
    const publicKey = await subtle().importKey('spki', spki, alg, true, ['verify']);
    // The private half must match the public one: a test signature, verified.
    const params = kind === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: 48 } : { name: 'ECDSA', hash: 'SHA-384' };
    const probe = new Uint8Array([0x63, 0x63]);
    matches = await subtle().verify(params, publicKey, await subtle().sign(params, privateKey, probe), probe);
    if (matches) return { kind, privateKey, publicKey, spki };
  } catch (cause) {
    return fail(`${where} is not a ${kind} key pair`, cause);
  }
  return fail(`${where}: the private key does not match the public key`);
}

/** The member names a saved hierarchy uses (any object of it is read through these only). */
type Member = keyof SavedSimulatedHierarchy | keyof SavedSimulatedHierarchy['amd'] | keyof SavedSimulatedHierarchy['intel'] | keyof SavedCa | keyof SavedKey | (typeof NVIDIA_CAS)[number];

function obj(v: unknown, where: string): Partial<Record<Member, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Partial<Record<Member, unknown>>;
}

function b64(v: unknown, where: string): Uint8Array<ArrayBuffer> {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64 * 1024) fail(`${where} must be base64`);
  try {
    return new Uint8Array(fromBase64(v as string));
  } catch (cause) {
    return fail(`${where} must be base64`, cause);
  }
}

function fail(message: string, cause?: unknown): never {
  throw new ConfigError('ERR_SIMULATOR_STATE', `saved simulated hierarchy: ${message}`, cause === undefined ? {} : { cause });
}
