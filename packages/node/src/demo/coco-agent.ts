/**
 * A stand-in for the CoCo Attestation Agent REST API (guest-components `api-server-rest`), built on the
 * simulator: for tests and `ccinfer demo --pod coco`. It answers like either API generation the field runs
 * (see gateway/evidence/aa-client.ts), with simulator-signed evidence, so only the simulator's anchors accept it:
 *
 *  - `v0.21`: `/info`; `/aa/evidence` and `/aa/additional-evidence` with `runtime_data` as text or, with
 *    `encoding=base64`, as unpadded base64url; NVIDIA architectures in UPPERCASE.
 *  - `v0.19`: `/aa/evidence` only, `runtime_data` taken as its raw UTF-8; everything else 404.
 *
 * Runtime data longer than 64 bytes is refused and shorter data zero-padded, as the SNP and TDX attesters do.
 * It listens on loopback only.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { concat, fromBase64Url, utf8 } from '@ccinfer/core';
import { encodeTrusteeAdditionalEvidence } from '@ccinfer/core/internal';
import { encodeTrusteeSnpEvidence, encodeTrusteeTdxEvidence } from '@ccinfer/verifier/trustee';
import { mintDevices, simulatedPodMaterial, type SimulatedPodMaterial, type TdxQuoteSpec } from '@ccinfer/verifier/testing';
import { simulatedCpuSource } from '../gateway/evidence/simulated.js';

export interface StandInAgentOptions {
  /** API generation to imitate. Default `v0.21`. */
  api?: 'v0.19' | 'v0.21';
  tee?: 'snp' | 'tdx';
  /** Simulated GPUs / NVSwitches behind `/aa/additional-evidence` (v0.21). Default 0 / 0. */
  gpus?: number;
  switches?: number;
  /** The initdata document; HOST_DATA / MRCONFIGID = its digest. */
  initdata?: string;
  /** TDX quote fields (MRTD, RTMRs, …). */
  quote?: TdxQuoteSpec;
  /** SNP: leave `cert_chain` null, as hosts that do not provide certificates do. */
  noCertChain?: boolean;
  /** Replace the attestation_report JSON before it is sent (negative tests). */
  mutateReport?: (json: Record<string, unknown>) => unknown;
  /** NVIDIA architectures in serde's default casing (`Hopper`, `Ls10`), as attesters before v0.21 wrote them. */
  serdeArchCase?: boolean;
  /** Shared simulator material (default: fresh). */
  material?: SimulatedPodMaterial;
}

export interface StandInAgent {
  url: string;
  server: Server;
  material: SimulatedPodMaterial;
  /** Every request path with its query, in order. */
  requests: string[];
  close(): Promise<void>;
}


export async function startStandInAgent(o: StandInAgentOptions = {}): Promise<StandInAgent> {
  const api = o.api ?? 'v0.21';
  const tee = o.tee ?? 'snp';
  const material = o.material ?? (await simulatedPodMaterial());
  const cpu = await simulatedCpuSource(material, { tee, ...(o.initdata !== undefined ? { initdata: o.initdata } : {}), ...(o.quote ? { quote: o.quote } : {}) });
  const requests: string[] = [];
  const arch = o.serdeArchCase ? { gpu: 'Hopper', switch: 'Ls10' } : { gpu: 'HOPPER', switch: 'LS10' };

  const runtimeData = (q: URLSearchParams): Uint8Array => {
    const raw = q.get('runtime_data') ?? '';
    const bytes = api === 'v0.21' && q.get('encoding') === 'base64' ? fromBase64Url(raw) : utf8(raw);
    if (bytes.length > 64) throw new RangeError('runtime data exceeds 64 bytes');
    return bytes;
  };

  const evidence = async (data: Uint8Array): Promise<unknown> => {
    const r = await cpu.report(concat(data, new Uint8Array(64 - data.length)));
    if (r.tee === 'tdx') return encodeTrusteeTdxEvidence(r.quote);
    const certs = o.noCertChain
      ? null
      : [{ type: 'VCEK' as const, der: r.leaf }, ...(r.chain ? [{ type: 'ASK' as const, der: r.chain[0]! }, { type: 'ARK' as const, der: r.chain[1]! }] : [])];
    const e = encodeTrusteeSnpEvidence(r.report, certs);
    return o.mutateReport ? { ...e, attestation_report: o.mutateReport(e['attestation_report'] as Record<string, unknown>) } : e;
  };

  const additional = async (data: Uint8Array): Promise<string> => {
    // The NVIDIA attester takes the first 32 bytes of runtime data as the SPDM nonce, zero-padded.
    const nonce = concat(data, new Uint8Array(Math.max(0, 32 - data.length))).subarray(0, 32);
    const { gpus, switches } = await mintDevices(material.nvidia, nonce, o.gpus ?? 0, o.switches ?? 0);
    const entry = (kind: 'gpu' | 'switch') => (d: { report: Uint8Array; certChain: Uint8Array }, i: number) => ({ arch: arch[kind], uuid: `${kind}-${i}`, evidence: d.report, certificate: d.certChain });
    return encodeTrusteeAdditionalEvidence([...gpus.map(entry('gpu')), ...switches.map(entry('switch'))]);
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://agent');
    requests.push(`${u.pathname}${u.search}`);
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': status === 200 ? 'application/octet-stream' : 'text/plain' }).end(body);
    };
    const route = async (): Promise<void> => {
      if (req.method !== 'GET') return send(405, 'method not allowed');
      if (u.pathname === '/aa/evidence') return send(200, JSON.stringify(await evidence(runtimeData(u.searchParams))));
      if (api === 'v0.19') return send(404, 'not found');
      if (u.pathname === '/info') return send(200, JSON.stringify({ version: '0.21.0', tee, additional_tees: (o.gpus ?? 0) > 0 ? ['nvidia'] : [], feature: 'all' }));
      if (u.pathname === '/aa/additional-evidence') return send(200, await additional(runtimeData(u.searchParams)));
      return send(404, 'not found');
    };
    route().catch((err: unknown) => send(400, err instanceof Error ? err.message : 'bad request'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    material,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
