/**
 * NVIDIA GPU / NVSwitch appraisal on real vectors (test-vectors/nvidia): one H200 cold (nothing cached)
 * and warm (device chain cached; validity still checked), one RIM verification (parse, C14N 1.1, digest,
 * ECDSA, signer chain), the 8-GPU + 4-NVSwitch PPCIe system with its topology check, and the crypto floor
 * for one GPU (five key imports and five ECDSA P-384 verifies with bare WebCrypto: the report signature and
 * the four certificate signatures below the root).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckList, fromHex, subtle } from '@ccinfer/core';
import {
  ChainCache,
  appraiseGpu,
  parseCertificates,
  parseNvidiaReport,
  parseRim,
  verifyGpu,
  verifyRim,
  PINNED_ANCHORS,
  type GpuClaims,
} from '@ccinfer/verifier';
import { checkPpcieTopology, clearKeyCache, ecdsaDerToP1363 } from '@ccinfer/verifier/internal';
import type { BenchCase } from '../types.js';

const VECTORS = process.env['CCINFER_VECTORS'] ?? join(import.meta.dirname, '../../test-vectors');

export async function cases(): Promise<BenchCase[]> {
  const nv = join(VECTORS, 'nvidia');
  const h200 = join(nv, 'h200-595.71.05-tinfoil-nras-tdxbind');
  const report = new Uint8Array(readFileSync(join(h200, 'report.bin')));
  const certChain = readFileSync(join(h200, 'cert_chain.pem'), 'utf8');
  const expectedNonce = fromHex(readFileSync(join(h200, 'nonce.txt'), 'utf8').trim());
  const now = new Date('2026-11-28T00:00:00Z');
  const offline = { ocsp: 'skip' as const, requireRim: false };

  const one = async (chainCache?: ChainCache): Promise<void> => {
    const doc = await verifyGpu({ report, certChain }, { expectedNonce, now, ...offline, ...(chainCache ? { chainCache } : {}) });
    if (!doc.ok) throw new Error(`gpu bench vector rejected: ${JSON.stringify(doc.errors)}`);
  };
  await one();
  const warm = new ChainCache();
  await one(warm);

  const rimXml = new Uint8Array(readFileSync(join(h200, 'rims/NV_GPU_DRIVER_GH100_595.71.05.xml')));
  const rim = async (): Promise<void> => {
    await verifyRim(await parseRim(rimXml), { anchors: PINNED_ANCHORS.nvidiaRim, now });
  };
  await rim();

  // PPCIe: 8 GPUs + 4 LS10 switches, one nonce, appraised concurrently, then the topology rule.
  const sys = join(nv, 'hgx-h100-590.12-ppcie-8gpu-4switch');
  const sysNonce = fromHex(readFileSync(join(sys, 'nonce.txt'), 'utf8').trim());
  const load = (d: string) => ({ report: new Uint8Array(readFileSync(join(d, 'report.bin'))), certChain: readFileSync(join(d, 'cert_chain.pem'), 'utf8') });
  const gpus = Array.from({ length: 8 }, (_, i) => load(join(sys, `gpus/gpu${i}`)));
  const switches = Array.from({ length: 4 }, (_, i) => load(join(sys, `switches/switch${i}`)));
  const ppcie = async (): Promise<void> => {
    const checks = new CheckList();
    // One appraisal: a fresh cache, so signatures shared by the 12 chains are verified once.
    const chainCache = new ChainCache();
    const run = (ev: { report: Uint8Array; certChain: string }, id: string): Promise<GpuClaims> =>
      appraiseGpu(ev, { expectedNonce: sysNonce, now, checks, id, chainCache, ...offline });
    const [g, s] = await Promise.all([Promise.all(gpus.map((ev, i) => run(ev, `gpu${i}`))), Promise.all(switches.map((ev, i) => run(ev, `switch${i}`)))]);
    checkPpcieTopology(g, s);
  };
  await ppcie();

  // The floor for one GPU.
  const certs = parseCertificates(certChain);
  const parsed = parseNvidiaReport(report, 'gpu');
  const u = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
  const ec = { name: 'ECDSA', namedCurve: 'P-384' };
  const sigs = certs.slice(0, 4).map((c) => ecdsaDerToP1363(c.signature, 48));
  const floor = async (): Promise<void> => {
    const keys = await Promise.all(certs.map((c) => subtle().importKey('spki', u(c.spki), ec, false, ['verify'])));
    const alg = { name: 'ECDSA', hash: 'SHA-384' };
    const ok = await Promise.all([
      subtle().verify(alg, keys[0]!, u(parsed.signature), u(parsed.signedBytes)),
      ...certs.slice(0, 4).map((c, i) => subtle().verify(alg, keys[i + 1]!, u(sigs[i]!), u(c.tbs))),
    ]);
    if (!ok.every(Boolean)) throw new Error('floor verification failed');
  };
  await floor();

  return [
    { name: 'gpu.floor', title: 'bare WebCrypto for one GPU: 5 P-384 key imports + 5 ECDSA P-384 verifies', fn: floor },
    {
      name: 'gpu.cold',
      title: 'verifyGpu (H200): parse + chain + FWID + nonce + SPDM signature, nothing cached',
      fn: async () => {
        clearKeyCache();
        await one();
      },
      compareTo: ['gpu.floor'],
    },
    { name: 'gpu.warm', title: 'verifyGpu with the device chain cached (validity still checked)', fn: () => one(warm), compareTo: ['gpu.cold', 'gpu.floor'] },
    { name: 'gpu.rim', title: 'RIM: parse XML + C14N 1.1 digest + ECDSA + signer chain (21 KB driver RIM)', fn: rim },
    {
      name: 'gpu.ppcie',
      title: '8 H100 + 4 LS10 PPCIe: 12 device appraisals (cold) + topology',
      fn: async () => {
        clearKeyCache();
        await ppcie();
      },
      compareTo: ['gpu.cold'],
    },
  ];
}
