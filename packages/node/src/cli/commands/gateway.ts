/** `ccinfer gateway`: the pod side (docs/architecture.md "Data flow", docs/wire-protocol.md). */
import { once } from 'node:events';
import { cacheOptions, cliCache, parse, parseDuration, readInput, required } from '../args.js';
import { createConfigfsProvider, createGateway, type EvidenceProvider } from '../../gateway/index.js';
import { createSimulatedProvider } from '../../gateway/evidence/simulated.js';
import { simulatedHierarchyIn } from '../../gateway/evidence/sim-hierarchy.js';
import type { PeerSource } from '../../gateway/peers.js';
import type { SimulatedPodMaterial } from '@ccinfer/verifier/testing';
import { parseListen } from './proxy.js';
import { cocoFlags, cocoProvider, usesCocoFlags } from './gateway-coco.js';
import { EXIT, UsageError, type Command, type FlagTable } from '../types.js';

const usage =
  'ccinfer gateway --upstream URL --evidence coco|configfs|simulated [--aa-url URL] [--gpu aa|nvattest|nvml|none] [--nvattest CMD] [--nvswitches] [--nvml-library FILE] [--listen 127.0.0.1:8443] [--anchors-out FILE] [--tee snp|tdx] [--sim-hierarchy DIR] [--gpus N] [--switches N] [--initdata FILE] [--gpu-command CMD] [--snp-leaf FILE] [--max-request-bytes N] [--max-body SIZE] [--rotate-every DURATION] [--rotation-grace DURATION] [--max-streams N] [--max-attest N] [--upstream-timeout DURATION] [--request-timeout DURATION] [--peers URL,... | --peers-dns NAME[:PORT]] [--cors-origin ORIGIN]... [--attach-collateral | --no-attach-collateral] [--cache-dir DIR | --no-cache]';

const options = {
  upstream: { type: 'string', arg: 'URL', help: 'the OpenAI-compatible model server (required)' },
  evidence: { type: 'string', arg: 'coco|configfs|simulated', help: 'where evidence comes from: a CoCo Attestation Agent, the kernel (configfs-tsm) or the simulator (required)' },
  listen: { type: 'string', arg: 'HOST:PORT', help: 'where the gateway listens', fallback: '127.0.0.1:8443' },
  'anchors-out': { type: 'string', arg: 'FILE', help: 'simulated: write the simulator\'s trust anchors for clients\' --anchors' },
  initdata: { type: 'string', arg: 'FILE', help: 'the CoCo initdata document carried in bundles' },
  'gpu-command': { type: 'string', arg: 'CMD', help: 'configfs: a command printing the GPU evidence JSON' },
  'snp-leaf': { type: 'string', arg: 'FILE', help: 'configfs: the VCEK / VLEK when the auxblob has none' },
  'max-request-bytes': { type: 'string', arg: 'N', help: 'largest encapsulated request read whole (non-chunked OHTTP)', fallback: '8 MiB' },
  'max-body': { type: 'string', arg: 'SIZE', help: 'largest streamed (chunked) request, forwarded as it arrives; beyond it 413 too-large (bytes, or with KiB, MiB, GiB)', fallback: '2GiB' },
  'rotate-every': { type: 'string', arg: 'DURATION', help: 'rotate the HPKE key this often (90s, 15m, 24h; a bare number is seconds; at least 1 s), each new key with a random key id', fallback: 'one key for the process\'s life' },
  'rotation-grace': { type: 'string', arg: 'DURATION', help: 'how long the previous key still opens requests after a rotation (0 drops it at once); needs --rotate-every', fallback: '60s' },
  'max-streams': { type: 'string', arg: 'N', help: 'OHTTP requests in flight, streams included; beyond it 503 gateway-busy with Retry-After', fallback: '1024' },
  'max-attest': { type: 'string', arg: 'N', help: 'evidence collections at once; beyond it the same 503', fallback: '8' },
  'upstream-timeout': { type: 'string', arg: 'DURATION', help: 'time for the upstream\'s response head and between its body chunks; then an inner 504 timeout', fallback: '120s' },
  'request-timeout': { type: 'string', arg: 'DURATION', help: 'time to receive a request head, or a whole non-streamed request; a streamed upload may not pause longer', fallback: '60s' },
  'cors-origin': { type: 'string', multiple: true, arg: 'ORIGIN', help: 'allow a web origin (repeatable)' },
  'allow-path': { type: 'string', multiple: true, arg: 'PREFIX', help: 'upstream path prefixes clients may reach (repeatable)', fallback: '/v1/' },
  tee: { type: 'string', arg: 'snp|tdx', help: 'simulated: the CPU TEE', fallback: 'snp' },
  'sim-hierarchy': { type: 'string', arg: 'DIR', help: 'simulated: keep the simulated AMD / Intel / NVIDIA roots in DIR (written once, then reused), so restarts and replicas chain to the same roots', fallback: 'new roots on every start' },
  peers: { type: 'string', arg: 'URL,...', help: 'the other replicas\' base URLs: a request for a key another replica holds is forwarded to it still encrypted', fallback: 'none' },
  'peers-dns': { type: 'string', arg: 'NAME[:PORT]', help: 'the replicas are the A records of NAME (a Kubernetes headless Service), on PORT', fallback: 'the --listen port' },
  gpus: { type: 'string', arg: 'N', help: 'simulated: GPUs (0..64)', fallback: '0' },
  switches: { type: 'string', arg: 'N', help: 'simulated: NVSwitches (0..64)', fallback: '0' },
  'attach-collateral': { type: 'boolean', help: 'attach the vendor collateral bundles need', fallback: 'on for configfs, off for simulated' },
  'no-attach-collateral': { type: 'boolean', help: 'attach no collateral' },
  ...cacheOptions,
  ...cocoFlags,
} as const satisfies FlagTable;

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run the pod gateway: evidence, HPKE key, chunked OHTTP in front of an OpenAI-compatible server',
  usage,
  options,
  example: 'ccinfer gateway --upstream http://127.0.0.1:8000 --evidence coco --gpu nvml',
  async run(args, io) {
    const { values } = parse(
      args,
      options,
      usage,
    );
    const upstream = required(values.upstream, '--upstream', usage);
    try {
      new URL(upstream);
    } catch {
      throw new UsageError(`--upstream ${upstream} is not a URL`);
    }
    const listen = parseListen(values.listen, '127.0.0.1:8443');
    const initdata = values.initdata ? new TextDecoder().decode(await readInput(io, values.initdata, 'initdata')) : undefined;
    let evidence: EvidenceProvider;
    const kind = required(values.evidence, '--evidence', usage);
    if (kind === 'simulated') {
      const count = (v: string | undefined, flag: string): number => {
        const n = Number(v ?? 0);
        if (!Number.isInteger(n) || n < 0 || n > 64) throw new UsageError(`${flag} must be an integer 0..64`);
        return n;
      };
      const tee = values.tee ?? 'snp';
      if (tee !== 'snp' && tee !== 'tdx') throw new UsageError(`--tee must be snp or tdx\nusage: ${usage}`);
      const material = values['sim-hierarchy'] ? await sharedHierarchy(values['sim-hierarchy'], io) : undefined;
      const sim = await createSimulatedProvider({ tee, gpus: count(values.gpus, '--gpus'), switches: count(values.switches, '--switches'), ...(initdata !== undefined ? { initdata } : {}), ...(material ? { material } : {}) });
      evidence = sim;
      if (values['anchors-out']) await io.writeFile(values['anchors-out'], JSON.stringify(sim.anchors, null, 2) + '\n');
      io.stderr('ccinfer gateway: SIMULATED evidence — clients accept it only with --anchors from --anchors-out\n');
    } else if (values['sim-hierarchy']) {
      throw new UsageError('--sim-hierarchy is only for --evidence simulated');
    } else if (kind === 'configfs') {
      if (values['anchors-out'] || values.tee) throw new UsageError('--anchors-out and --tee are only for --evidence simulated (configfs reads the TEE from the kernel)');
      const snpLeaf = values['snp-leaf'] ? await readInput(io, values['snp-leaf'], 'SNP leaf certificate') : undefined;
      evidence = createConfigfsProvider({
        ...(values['gpu-command'] ? { gpuCommand: values['gpu-command'].split(/\s+/).filter(Boolean) } : {}),
        ...(snpLeaf ? { snpLeaf } : {}),
        ...(initdata !== undefined ? { initdata } : {}),
      });
    } else if (kind === 'coco') {
      if (values['anchors-out'] || values.tee || values['gpu-command']) throw new UsageError('--anchors-out, --tee and --gpu-command do not apply to --evidence coco (the agent names its TEE; use --gpu)');
      const snpLeaf = values['snp-leaf'] ? await readInput(io, values['snp-leaf'], 'SNP leaf certificate') : undefined;
      const coco = await cocoProvider(values, { ...(snpLeaf ? { snpLeaf } : {}), ...(initdata !== undefined ? { initdata } : {}) });
      io.stderr(`ccinfer gateway: Attestation Agent API ${coco.agent.api}${coco.agent.tee ? ` (${coco.agent.tee})` : ''}\n`);
      evidence = coco;
    } else {
      throw new UsageError(`--evidence must be coco, configfs or simulated\nusage: ${usage}`);
    }
    if (kind !== 'coco' && usesCocoFlags(values)) throw new UsageError('--aa-url, --gpu, --nvattest, --nvswitches and --nvml-library are for --evidence coco');
    const max = values['max-request-bytes'] !== undefined ? Number(values['max-request-bytes']) : undefined;
    if (max !== undefined && !(Number.isSafeInteger(max) && max > 0)) throw new UsageError('--max-request-bytes must be a positive integer');
    const maxBodyBytes = values['max-body'] !== undefined ? parseSize(values['max-body'], '--max-body') : undefined;
    // A rotation at least a second apart, so a typo (`--rotate-every 1ms`) cannot make every attest stale at once.
    const rotateEveryMs = values['rotate-every'] !== undefined ? parseDuration(values['rotate-every'], '--rotate-every', 1000) : undefined;
    const rotationGraceMs = values['rotation-grace'] !== undefined ? parseDuration(values['rotation-grace'], '--rotation-grace') : undefined;
    if (rotationGraceMs !== undefined && rotateEveryMs === undefined) throw new UsageError('--rotation-grace needs --rotate-every');
    const maxStreams = values['max-streams'] !== undefined ? limit(values['max-streams'], '--max-streams') : undefined;
    const maxAttest = values['max-attest'] !== undefined ? limit(values['max-attest'], '--max-attest') : undefined;
    const upstreamTimeoutMs = values['upstream-timeout'] !== undefined ? parseDuration(values['upstream-timeout'], '--upstream-timeout', 1) : undefined;
    const requestTimeoutMs = values['request-timeout'] !== undefined ? parseDuration(values['request-timeout'], '--request-timeout', 1) : undefined;
    if (values['attach-collateral'] && values['no-attach-collateral']) throw new UsageError('--attach-collateral and --no-attach-collateral exclude each other');
    // Default on for real pods (configfs, coco): their bundles carry no collateral, and browsers cannot fetch it
    // (no CORS at AMD / Intel / NVIDIA). Off for simulated evidence, which carries its own.
    const attach = values['no-attach-collateral'] ? false : values['attach-collateral'] === true || kind !== 'simulated';
    const peers = peerSource(values.peers, values['peers-dns'], listen.port);
    const log = (event: string, detail?: Record<string, unknown>): void => io.stderr(`gateway: ${event}${detail ? ' ' + JSON.stringify(detail) : ''}\n`);
    const gateway = await createGateway({
      upstream,
      evidence,
      attachCollateral: attach ? { cache: cliCache(io, values), log, fetcher: io.fetcher } : false,
      ...(max ? { maxRequestBytes: max } : {}),
      ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
      ...(rotateEveryMs !== undefined ? { rotateEveryMs } : {}),
      ...(maxStreams !== undefined ? { maxConcurrentRequests: maxStreams } : {}),
      ...(maxAttest !== undefined ? { maxConcurrentAttests: maxAttest } : {}),
      ...(upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs } : {}),
      ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
      ...(rotationGraceMs !== undefined ? { rotationGraceMs } : {}),
      ...(peers ? { peers } : {}),
      ...(values['cors-origin'] ? { corsOrigins: corsOrigins(values['cors-origin']) } : {}),
      ...(values['allow-path'] ? { allowedPathPrefixes: pathPrefixes(values['allow-path']) } : {}),
      log,
    });
    const { url } = await gateway.listen(listen.port, listen.host);
    io.stdout(`ccinfer gateway: listening on ${url} (key id ${gateway.key.config.keyId}), upstream ${upstream}\n`);
    if (!io.signal.aborted) await once(io.signal, 'abort');
    await gateway.close();
    return EXIT.ACCEPTED;
  },
};

const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** A byte size: a positive integer, optionally with a binary unit (`512MiB`, `2GiB`). */
function parseSize(value: string, flag: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : NaN;
  if (!(Number.isSafeInteger(n) && n > 0)) throw new UsageError(`${flag} must be a positive size in bytes, KiB, MiB, GiB or TiB (got ${value})`);
  return n;
}

/** `--sim-hierarchy DIR`: the saved simulated hierarchy (written now when DIR holds none). */
export async function sharedHierarchy(dir: string, io: { stderr: (s: string) => void }, command = 'gateway'): Promise<SimulatedPodMaterial> {
  try {
    const { material, created } = await simulatedHierarchyIn(dir);
    io.stderr(`ccinfer ${command}: simulated roots ${created ? 'written to' : 'loaded from'} ${dir}\n`);
    return material;
  } catch (err) {
    // An unreadable or malformed state directory is bad input, as an unreadable --initdata is.
    throw new UsageError(`--sim-hierarchy ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `--peers URL,...` or `--peers-dns NAME[:PORT]` (docs/architecture.md "Replicas"): the other replicas. Peer
 * URLs are origins (http or https, no path): only the gateway's own endpoints are called on them.
 */
function peerSource(urls: string | undefined, dns: string | undefined, listenPort: number): PeerSource | undefined {
  if (urls !== undefined && dns !== undefined) throw new UsageError('--peers and --peers-dns exclude each other');
  if (urls !== undefined) {
    const list = urls.split(',').map((u) => u.trim()).filter(Boolean);
    if (list.length === 0 || list.length > 64) throw new UsageError('--peers takes 1..64 URLs');
    return {
      urls: list.map((v) => {
        let u: URL;
        try {
          u = new URL(v);
        } catch {
          throw new UsageError(`--peers ${v} is not a URL such as http://10.0.0.7:8443`);
        }
        if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== v.replace(/\/$/, '')) throw new UsageError(`--peers ${v} must be an origin such as http://10.0.0.7:8443`);
        return u.origin;
      }),
    };
  }
  if (dns === undefined) return undefined;
  const m = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)(?::(\d{1,5}))?$/i.exec(dns);
  const port = m?.[5] !== undefined ? Number(m[5]) : listenPort;
  if (!m || dns.length > 253 || !(port >= 1 && port <= 65535)) throw new UsageError(`--peers-dns ${dns} must be a DNS name with an optional :PORT (1..65535), such as ccinfer-peers.default.svc.cluster.local:8443`);
  return { dns: m[1]!, port };
}

/** `--max-streams` / `--max-attest`: a concurrency limit, 1..1,000,000. */
function limit(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1_000_000) throw new UsageError(`${flag} must be an integer 1..1000000`);
  return n;
}

/** `--cors-origin`: `*` or web origins (scheme://host[:port]), checked so a typo cannot widen access. */
function corsOrigins(values: string[]): string[] {
  return values.map((v) => {
    if (v === '*') return v;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new UsageError(`--cors-origin ${v} is not an origin such as https://app.example`);
    }
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== v) throw new UsageError(`--cors-origin ${v} is not an origin such as https://app.example`);
    return v;
  });
}

/** `--allow-path`: upstream path prefixes clients may reach (replacing the default `/v1/`). */
function pathPrefixes(values: string[]): string[] {
  for (const v of values) if (!/^\/[\x21-\x7e]*$/.test(v) || v.includes('\\')) throw new UsageError(`--allow-path ${v} must be a path prefix such as /v1/`);
  return values;
}
