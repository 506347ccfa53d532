/**
 * Test doubles for a real pod's surroundings, built from `@ccinfer/verifier/testing`:
 *  - `fakeVendors`: one Fetcher playing AMD KDS (the ARK-signed CRL), Intel PCS v4 (TCB Info, QE Identity,
 *    PCK CRL with their issuer-chain headers, the root CA CRL), NVIDIA's RIM service (JSON, base64 RIM) and
 *    NVIDIA's OCSP responder (answers a request for a known certificate, echoing its nonce).
 *  - `memoryTsm`: configfs-tsm in memory, answering a write of inblob with outblob / auxblob / provider /
 *    generation (Documentation/ABI/testing/configfs-tsm).
 */
import { basename, dirname, join } from 'node:path';
import { fromHex, toBase64, toHex, utf8, type Fetcher } from '@ccinfer/core';
import { children, decodeDer, readOctets, readUnsigned, sequence } from '@ccinfer/core/internal';
import { KDS_BASE, NVIDIA_OCSP_URL, RIM_SERVICE_URL, ROOT_CA_CRL_URL, parseCertificate } from '@ccinfer/verifier';
import { CERT_TABLE_GUID, certIdFor } from '@ccinfer/verifier/internal';
import { mintOcspResponse, type SimulatedNvidia, type SimulatedPodMaterial } from '@ccinfer/verifier/testing';
import type { TsmFs } from '../../src/gateway/index.js';

export interface FakeVendors {
  fetcher: Fetcher;
  /** Every request, as `METHOD url`. */
  calls: string[];
  /** Certificate pairs (DER, leaf first) the OCSP responder answers for. */
  ocspKnows(chain: Uint8Array[]): void;
  /** Makes every URL starting with the prefix answer this status (or never answer, with `hang`); undefined heals. */
  fail(prefix: string, how?: number | 'hang'): void;
}

export async function fakeVendors(m: SimulatedPodMaterial, o: { tdx?: Map<string, Uint8Array>; rims?: Map<string, Uint8Array> } = {}): Promise<FakeVendors> {
  const calls: string[] = [];
  const failures = new Map<string, number | 'hang'>();
  const pairs: [Uint8Array, Uint8Array][] = [];
  const ocspKnows = (chain: Uint8Array[]): void => {
    for (let i = 0; i < chain.length - 1; i++) pairs.push([chain[i]!, chain[i + 1]!]);
  };
  ocspKnows([m.nvidia.rimSigner.der, m.nvidia.rimCa.der, m.nvidia.rimRoot.der]);
  const crl = await m.amd.mintCrl();
  const header = (b: Uint8Array): string => encodeURIComponent(new TextDecoder().decode(b));
  const bytes = (b: Uint8Array, init?: ResponseInit): Response => new Response(b as Uint8Array<ArrayBuffer>, init);

  const fetcher: Fetcher = async (url, init) => {
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    for (const [prefix, how] of failures) {
      if (!url.startsWith(prefix)) continue;
      if (how === 'hang') {
        return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true }));
      }
      return new Response('unavailable', { status: how });
    }
    const u = new URL(url);
    if (url === `${KDS_BASE}/vcek/v1/${m.amd.product}/crl`) return bytes(crl);
    const tdx = o.tdx;
    if (tdx) {
      if (u.pathname.endsWith('/tdx/certification/v4/tcb')) return bytes(tdx.get('tcbInfo')!, { headers: { 'TCB-Info-Issuer-Chain': header(tdx.get('tcbInfoIssuerChain')!) } });
      if (u.pathname.endsWith('/qe/identity')) return bytes(tdx.get('qeIdentity')!, { headers: { 'SGX-Enclave-Identity-Issuer-Chain': header(tdx.get('qeIdentityIssuerChain')!) } });
      if (u.pathname.endsWith('/pckcrl')) return bytes(tdx.get('pckCrl')!, { headers: { 'SGX-PCK-CRL-Issuer-Chain': header(tdx.get('pckCrlIssuerChain')!) } });
      if (url === ROOT_CA_CRL_URL) return bytes(tdx.get('rootCaCrl')!);
    }
    if (url.startsWith(`${RIM_SERVICE_URL}/v1/rim/`)) {
      const id = decodeURIComponent(u.pathname.split('/').pop()!);
      const xml = o.rims?.get(id);
      if (!xml) return new Response('not found', { status: 404 });
      const sha = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', xml as Uint8Array<ArrayBuffer>)));
      return new Response(JSON.stringify({ id, rim: toBase64(xml), sha256: sha }), { headers: { 'content-type': 'application/json' } });
    }
    if (url === NVIDIA_OCSP_URL && init?.method === 'POST') return ocsp(m.nvidia, pairs, new Uint8Array(await new Response(init.body).arrayBuffer()));
    return new Response('not found', { status: 404 });
  };
  return { fetcher, calls, ocspKnows, fail: (prefix, how) => void (how === undefined ? failures.delete(prefix) : failures.set(prefix, how)) };
}

/** RFC 6960 OCSPRequest → a good response for the certificate it names, with its nonce (RFC 8954). */
async function ocsp(sim: SimulatedNvidia, pairs: [Uint8Array, Uint8Array][], body: Uint8Array): Promise<Response> {
  const tbs = children(sequence(decodeDer(body), 'OCSPRequest')[0]!);
  const certId = children(children(children(tbs[0]!)[0]!)[0]!);
  const keyHash = readOctets(certId[2]);
  const serial = toHex(readUnsigned(certId[3]));
  const ext = tbs[1] ? children(children(children(tbs[1])[0]!)[0]!) : undefined;
  const nonce = ext ? readOctets(decodeDer(readOctets(ext[1]))) : undefined;
  for (const [cert, issuer] of pairs) {
    const id = await certIdFor(parseCertificate(cert), parseCertificate(issuer));
    if (toHex(id.serialNumber).replace(/^(00)+/, '') !== serial.replace(/^(00)+/, '') || toHex(id.issuerKeyHash) !== toHex(keyHash)) continue;
    const now = Date.now();
    const der = await mintOcspResponse(sim, { cert, issuer, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 86_400_000), ...(nonce ? { nonce } : {}) });
    return new Response(der as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/ocsp-response' } });
  }
  return new Response('unknown certificate', { status: 404 });
}

/** SNP extended-report certificate table: {GUID, offset u32le, length u32le} entries, a zero entry, the blobs. */
export function certTable(certs: [guid: string, der: Uint8Array][]): Uint8Array {
  const head = 24 * (certs.length + 1);
  const out = new Uint8Array(head + certs.reduce((n, [, d]) => n + d.length, 0));
  const v = new DataView(out.buffer);
  let off = head;
  certs.forEach(([g, d], i) => {
    out.set(fromHex(g.replace(/-/g, '')), 24 * i);
    v.setUint32(24 * i + 16, off, true);
    v.setUint32(24 * i + 20, d.length, true);
    out.set(d, off);
    off += d.length;
  });
  return out;
}

export type TsmAnswer = { provider: 'sev_guest' | 'tdx_guest'; outblob: Uint8Array; auxblob?: Uint8Array };

/** configfs-tsm in memory: `answer(inblob)` plays the kernel's report request. */
export function memoryTsm(answer: (inblob: Uint8Array) => Promise<TsmAnswer>): TsmFs {
  const files = new Map<string, Uint8Array>();
  let generation = 0;
  return {
    mkdir: async () => undefined,
    rmdir: async (dir) => {
      for (const k of [...files.keys()]) if (dirname(k) === dir) files.delete(k);
    },
    writeFile: async (path, data) => {
      files.set(path, data);
      if (basename(path) !== 'inblob') return;
      const dir = dirname(path);
      const a = await answer(data);
      files.set(join(dir, 'provider'), utf8(`${a.provider}\n`));
      files.set(join(dir, 'outblob'), a.outblob);
      if (a.auxblob) files.set(join(dir, 'auxblob'), a.auxblob);
      files.set(join(dir, 'generation'), utf8(String(++generation)));
    },
    readFile: async (path) => {
      const f = files.get(path);
      if (!f) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return f;
    },
  };
}

export const SNP_AUX = (leaf: Uint8Array, m: SimulatedPodMaterial): Uint8Array =>
  certTable([
    [CERT_TABLE_GUID.vcek, leaf],
    [CERT_TABLE_GUID.ask, m.amd.askDer],
    [CERT_TABLE_GUID.ark, m.amd.arkDer],
  ]);
