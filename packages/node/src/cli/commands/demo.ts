/**
 * `ccinfer demo` (what `npm run demo` runs): a simulated confidential pod — a tiny OpenAI-compatible model
 * server behind the ccinfer gateway, with simulated SEV-SNP (or `--tee tdx`: Intel TDX) evidence and one
 * simulated GPU by default — on 127.0.0.1. The pod carries the vendors' signed collateral (CRL or PCS
 * responses, the GPUs' RIMs and OCSP responses), so the client appraises it offline under the strict GPU
 * defaults (RIMs required, OCSP required) and prints each check as it happens, then streams the encrypted
 * reply. Then a tampered pod is refused before it receives a single byte of the prompt.
 *
 * `--pod coco` runs the gateway as in a Kata Confidential Containers pod: evidence from a stand-in Attestation
 * Agent REST API (`--aa-api v0.21`, GPUs from its additional evidence; or `v0.19`, text runtime data and the
 * `ccinfer/1-text` binding, no GPUs) built on the same simulator.
 */
import { CcinferError, toHex, type EvidenceBundle, type VerificationDocument } from '@ccinfer/core';
import { initdataDigest, parsePolicy, type Policy } from '@ccinfer/verifier';
import { createSecureClient } from '../../client.js';
import { DEMO_MODEL, startModelServer } from '../../demo/model-server.js';
import { createCocoProvider, createGateway, type EvidenceProvider, type Gateway } from '../../gateway/index.js';
import { createSimulatedProvider, simulatedCollateral } from '../../gateway/evidence/simulated.js';
import { startStandInAgent, type StandInAgent } from '../../demo/coco-agent.js';
import type { TrustAnchors } from '@ccinfer/verifier';
import { parse } from '../args.js';
import { formatCheck } from '../format.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage = 'ccinfer demo [--pod simulated|coco] [--aa-api v0.21|v0.19] [--tee snp|tdx] [--prompt TEXT] [--token-delay MS] [--gpus N (default 1)] [--switches N]';
/** The launch measurement the simulator puts in SNP reports by default. */
const SIMULATED_MEASUREMENT = '11'.repeat(48);
/**
 * The simulated TD: its build-time measurement (MRTD), runtime registers (RTMR0 firmware, RTMR1 kernel, RTMR2
 * command line and initrd, RTMR3 unused), the TDX module's measurement (MRSEAM) and no owner (MROWNER zero).
 */
const TD_MRTD = new Uint8Array(48).fill(0x7d);
const TD_RTMRS = [0x70, 0x71, 0x72, 0x00].map((b) => new Uint8Array(48).fill(b));
const TD_MRSEAM = new Uint8Array(48).fill(0x5e);
const TD_MROWNER = new Uint8Array(48);
/** The driver and VBIOS versions simulated GPUs report (`gpuOpaque` defaults). */
const SIMULATED_DRIVER = '550.90.07';
const SIMULATED_VBIOS = '96.00.9F.00.01';

/** The relying party's policy: what it expects the pod to run, and how many GPUs in which mode. */
async function demoPolicy(tee: 'snp' | 'tdx', initdata: string, gpus: number, switches: number): Promise<Policy> {
  const cpu =
    tee === 'snp'
      ? {
          snp: {
            measurements: [SIMULATED_MEASUREMENT],
            hostData: [toHex(await initdataDigest(initdata, { tee: 'snp' }))],
            vmpl: [0],
            productLines: ['Genoa'],
            // The simulated Genoa's firmware and TCB (`DEFAULT_TCB` of the simulator): nothing older is accepted.
            minTcb: { bootloader: 9, tee: 0, snp: 23, microcode: 72 },
            minFirmware: '1.55.61',
          },
        }
      : {
          tdx: {
            mrTd: [toHex(TD_MRTD)],
            ...Object.fromEntries(TD_RTMRS.map((r, i) => [`rtmr${i}`, [toHex(r)]])),
            mrConfigId: [toHex(await initdataDigest(initdata, { tee: 'tdx' }))],
            mrSeam: [toHex(TD_MRSEAM)],
            mrOwner: [toHex(TD_MROWNER)],
          },
        };
  // The GPU allowlists name what the simulated devices run; the security switches keep their strict
  // defaults (requireRim: true, ocsp: "require"), met by the RIMs and OCSP responses the pod carries.
  const gpu = {
    count: { min: gpus, max: gpus },
    mode: switches > 0 ? 'ppcie' : 'single',
    archs: switches > 0 ? ['hopper', 'ls10'] : ['hopper'],
    driverVersions: [SIMULATED_DRIVER],
    vbiosVersions: [SIMULATED_VBIOS],
  };
  // A GPU-less demo pod is accepted only because its policy says so (gpu.count.min 0, ERR_NV_POLICY_NO_GPU otherwise).
  return parsePolicy({ version: 1, ...cpu, gpu: gpus > 0 ? gpu : { count: { min: 0, max: 0 } } });
}

const options = {
  pod: { type: 'string', arg: 'simulated|coco', help: 'where the evidence comes from: the simulator, or a stand-in CoCo Attestation Agent', fallback: 'simulated' },
  'aa-api': { type: 'string', arg: 'v0.21|v0.19', help: "--pod coco: the stand-in agent's API version", fallback: 'v0.21' },
  tee: { type: 'string', arg: 'snp|tdx', help: 'the simulated CPU TEE', fallback: 'snp' },
  prompt: { type: 'string', arg: 'TEXT', help: 'what to ask the model' },
  'token-delay': { type: 'string', arg: 'MS', help: 'delay between streamed tokens', fallback: '35' },
  gpus: { type: 'string', arg: 'N', help: 'simulated GPUs (0..16)', fallback: '1' },
  switches: { type: 'string', arg: 'N', help: 'simulated NVSwitches, PPCIe (needs --gpus)', fallback: '0' },
} as const satisfies FlagTable;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'simulated pod + model + verified, encrypted, streamed chat, and a tampered pod refused',
  usage,
  options,
  example: 'ccinfer demo --gpus 8 --switches 4',
  async run(args, io) {
    const { values } = parse(args, options, usage);
    const gpus = Number(values.gpus ?? 1);
    const switches = Number(values.switches ?? 0);
    if (![gpus, switches].every((n) => Number.isInteger(n) && n >= 0 && n <= 16)) throw new UsageError('--gpus and --switches must be integers 0..16');
    // NVSwitches only exist with PPCIe GPUs: a lone `--switches N` is a usage error, not a refused pod at the end.
    if (switches > 0 && values.gpus === undefined) throw new UsageError(`--switches needs --gpus (PPCIe: --gpus 8 --switches 4)\nusage: ${usage}`);
    const tee = values.tee ?? 'snp';
    if (tee !== 'snp' && tee !== 'tdx') throw new UsageError(`--tee must be snp or tdx\nusage: ${usage}`);
    const cpu = { tee, ...(tee === 'tdx' ? { quote: { mrTd: TD_MRTD, rtmrs: TD_RTMRS, mrSeam: TD_MRSEAM, mrOwner: TD_MROWNER } } : {}) } as const;
    const podKind = values.pod ?? 'simulated';
    if (podKind !== 'simulated' && podKind !== 'coco') throw new UsageError(`--pod must be simulated or coco\nusage: ${usage}`);
    const api = values['aa-api'] ?? 'v0.21';
    if (api !== 'v0.21' && api !== 'v0.19') throw new UsageError('--aa-api must be v0.21 or v0.19');
    if (values['aa-api'] !== undefined && podKind !== 'coco') throw new UsageError('--aa-api goes with --pod coco');
    if (podKind === 'coco' && api === 'v0.19' && gpus + switches > 0) throw new UsageError('the v0.19 Attestation Agent gives no GPU evidence: add --gpus 0');
    const agents: StandInAgent[] = [];
    /** The pod's evidence provider and the anchors that accept it; `mutate` tampers with its bundles. */
    const makePod = async (initdata: string, mutate?: (b: EvidenceBundle) => Promise<EvidenceBundle>): Promise<{ provider: EvidenceProvider; anchors: TrustAnchors }> => {
      if (podKind === 'simulated') {
        const sim = await createSimulatedProvider({ ...cpu, initdata, gpus, switches, ...(mutate ? { mutate } : {}) });
        return { provider: sim, anchors: sim.anchors };
      }
      const agent = await startStandInAgent({ api, ...cpu, initdata, gpus, switches });
      agents.push(agent);
      const coco = await createCocoProvider({ url: agent.url, gpu: gpus + switches > 0 ? 'aa' : 'none', initdata });
      // The collateral a real pod's gateway attaches from the vendors, here from the simulator's vendors.
      const attach = await simulatedCollateral(agent.material, tee);
      const provider: EvidenceProvider = {
        name: 'coco',
        collect: async (r) => {
          const b = await attach(await coco.collect(r));
          return mutate ? mutate(b) : b;
        },
      };
      return { provider, anchors: agent.material.anchors };
    };
    const prompt = values.prompt ?? 'What does confidential inference protect?';
    const out = io.stdout;
    const model = await startModelServer({ tokenDelayMs: Number(values['token-delay'] ?? 35) });
    const gateways: Gateway[] = [];
    try {
      const initdata = 'algorithm = "sha256"\nversion = "0.1.0"\n[data]\n"policy.rego" = "package agent_policy\\ndefault AllowRequestsFailingPolicy := false"\n';
      const honest = await makePod(initdata);
      const pod = await createGateway({ upstream: model.url, evidence: honest.provider, attachCollateral: false });
      gateways.push(pod);
      const { url } = await pod.listen(0, '127.0.0.1');
      out(`ccinfer demo — a simulated confidential pod on loopback\n`);
      out(`  model server  ${model.url}  (deterministic OpenAI-compatible model "${DEMO_MODEL}")\n`);
      if (agents[0]) out(`  attestation   ${agents[0].url}  (stand-in CoCo Attestation Agent REST API ${api}, simulator-signed evidence)\n`);
      out(`  pod gateway   ${url}  (SIMULATED ${tee === 'snp' ? 'SEV-SNP' : 'TDX'} evidence${gpus ? ` + ${gpus} GPU(s)` : ''}${switches ? ` + ${switches} NVSwitch(es)` : ''}, HPKE X25519 key id ${pod.key.config.keyId})\n`);
      out(`  collateral    carried by the pod: ${tee === 'snp' ? 'the ARK-signed CRL' : 'Intel PCS TCB Info, QE Identity and CRLs'}${gpus + switches ? ", the devices' RIMs and OCSP responses" : ''} (the client makes no other request)\n`);
      out(`  trust anchors the simulator's own roots (the pinned ${tee === 'snp' ? 'AMD' : 'Intel'}${gpus + switches ? ' and NVIDIA' : ''} roots would refuse this pod)\n\n`);

      out(`1. Attest: POST ${url}/.well-known/ccinfer/attest with a fresh 32-byte nonce; nothing else leaves the client until every check passes\n`);
      const policy = await demoPolicy(tee, initdata, gpus, switches);
      const client = createSecureClient({ endpoint: url, anchors: honest.anchors, policy, fetcher: undefined, onCheck: (c) => out(formatCheck(c) + '\n') });
      const doc = await client.attest();
      for (const w of doc.warnings.filter((w) => !doc.checks.some((c) => c.status === 'skipped' && c.detail === w))) out(`  warning: ${w}\n`);
      out(`  ACCEPTED — requests are now encrypted to the key the evidence binds (REPORT_DATA = ${String((doc.claims as Record<string, unknown>)['binding'])} binding)\n\n`);

      out(`2. Chat, end-to-end encrypted (chunked OHTTP + Binary HTTP to the attested key), streamed as the model speaks\n`);
      out(`  you:   ${prompt}\n  model: `);
      const stream = (await client.infer({ model: DEMO_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] })) as AsyncIterable<{
        choices?: { delta?: { content?: string } }[];
      }>;
      for await (const e of stream) out(e.choices?.[0]?.delta?.content ?? '');
      out(`\n  (the pod saw ${pod.stats.ohttpBytes} encrypted bytes; the model received the plaintext only inside the pod)\n\n`);

      out(`3. A tampered pod: it presents genuine hardware evidence but swaps in a session key of its own\n`);
      const tampered = await makePod(initdata, async (b: EvidenceBundle) => {
        const { generateGatewayKey } = await import('@ccinfer/core');
        return { ...b, keyConfig: (await generateGatewayKey(b.keyConfig[0]!)).encoded };
      });
      const bad = await createGateway({ upstream: model.url, evidence: tampered.provider, attachCollateral: false });
      gateways.push(bad);
      const { url: badUrl } = await bad.listen(0, '127.0.0.1');
      const victim = createSecureClient({ endpoint: badUrl, anchors: tampered.anchors, policy, fetcher: undefined, onCheck: (c) => out(formatCheck(c) + '\n') });
      let rejected: VerificationDocument | undefined;
      victim.on('rejected', (e) => (rejected = e.document));
      let refused = false;
      try {
        await victim.infer({ model: DEMO_MODEL, messages: [{ role: 'user', content: prompt }] });
      } catch (err) {
        refused = err instanceof CcinferError;
        out(`  REFUSED: ${rejected?.errors.map((e) => e.code).join(', ') ?? (err as CcinferError).code}\n`);
      }
      out(`  the tampered pod received ${bad.stats.ohttpBytes} bytes of the request\n`);
      const ok = doc.ok && refused && bad.stats.ohttpBytes === 0;
      out(ok ? '\nDone: the honest pod was verified and used; the tampered pod was refused before it saw the prompt.\n' : '\nUNEXPECTED: see above.\n');
      return ok ? EXIT.ACCEPTED : EXIT.REJECTED;
    } finally {
      for (const g of gateways) await g.close();
      for (const a of agents) await a.close();
      await model.close();
    }
  },
};
